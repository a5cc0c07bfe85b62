// PostgreSQL metric history against a real embedded PostgreSQL (all migrations applied).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryPoint } from '../../../../domain/history.js';
import { createPostgresStore, type PostgresMetricStore } from '../postgres.js';
import { HOUR, MIN, TWO_53, countStatements, cpuPctOf, floorTo, log, snap, startPostgres, truncateAll } from './postgres-fixtures.js';

let pgh: Awaited<ReturnType<typeof startPostgres>>;
let store: PostgresMetricStore;

beforeAll(async () => {
  pgh = await startPostgres();
});
afterAll(async () => {
  await pgh?.stop();
});
beforeEach(async () => {
  await truncateAll(pgh.sql);
  store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0 });
});
afterEach(async () => {
  await store.close();
});

const count = async (table: string, where = 'true') =>
  Number((await pgh.sql.query(`SELECT count(*) AS n FROM "${table}" WHERE ${where}`)).rows[0].n);

/** 2 hours at 1 s for one VM, ending three hours ago, written 600 samples per statement. */
async function writeTwoHours(vmId: number) {
  const base = floorTo(Date.now(), HOUR) - 3 * HOUR;
  const all = Array.from({ length: 7200 }, (_, i) => snap(vmId, base + i * 1000, i));
  for (let k = 0; k < all.length; k += 600) await store.write(all.slice(k, k + 600));
  return base;
}

function expectBuckets(points: HistoryPoint[], base: number, stepSec: number, n: number) {
  expect(points).toHaveLength(n);
  points.forEach((p, b) => {
    const xs = Array.from({ length: stepSec }, (_, k) => cpuPctOf(b * stepSec + k));
    expect(p.ts.getTime()).toBe(base + b * stepSec * 1000);
    expect(p.values.cpu_pct!.avg).toBeCloseTo(xs.reduce((a, x) => a + x, 0) / xs.length, 9);
    expect(p.values.cpu_pct!.min).toBe(Math.min(...xs));
    expect(p.values.cpu_pct!.max).toBe(Math.max(...xs));
    expect(p.values.memrss).toBeUndefined(); // never reported → no data, not zeros
  });
}

describe('write', () => {
  it('writes 1,000 VMs of one tick with ONE statement, BigInt exact past 2^53, NULL for what is missing', async () => {
    const ts = Date.now() - 5_000;
    const tick = Array.from({ length: 1000 }, (_, v) => snap(v + 1, ts, v));
    const counter = countStatements('"VmSample"');
    try {
      await store.write(tick);
    } finally {
      counter.restore();
    }
    expect(counter.n).toBe(1);
    expect(await count('VmSample')).toBe(1000);
    expect(store.status()).toMatchObject({ backend: 'postgres', written: 1000, bufferDepth: 0, dropped: 0, failedWrites: 0 });

    const { rows } = await pgh.sql.query(
      `SELECT cputime::text AS cputime, memrss, disk_rd_bytes, disk_rd_bytes_rate, cpu_system_pct, cpu_pct, ts
       FROM "VmSample" WHERE "vmId" = 999`,
    );
    expect(BigInt(rows[0].cputime)).toBe(TWO_53 + 998n * 1_000_000_007n);
    expect(BigInt(rows[0].cputime)).toBeGreaterThan(TWO_53);
    expect(rows[0]).toMatchObject({ memrss: null, disk_rd_bytes: null, disk_rd_bytes_rate: null, cpu_system_pct: null, cpu_pct: cpuPctOf(998) });
    expect(rows[0].ts.getTime()).toBe(ts); // ms precision kept
  });

  it('stores NaN / Infinity derived values as NULL, and an empty tick costs nothing', async () => {
    await store.write([snap(1, Date.now(), 1, { memPct: Number.NaN, rates: { cputime: Infinity } })]);
    const counter = countStatements('"VmSample"');
    await store.write([]);
    counter.restore();
    expect(counter.n).toBe(0);
    const { rows } = await pgh.sql.query('SELECT mem_pct, cputime_rate FROM "VmSample"');
    expect(rows[0]).toEqual({ mem_pct: null, cputime_rate: null });
  });
});

describe('history and rollups', () => {
  it('buckets 2 h of 1 s data with the right avg/min/max from raw, minute and hour tables', async () => {
    const base = await writeTwoHours(7);
    const q = (stepSec: number) => store.history({ vmId: 7, from: new Date(base), to: new Date(base + 2 * HOUR), stepSec, fields: ['cpu_pct', 'memrss'] });

    expectBuckets(await q(10), base, 10, 720); // raw, before any rollup
    expectBuckets(await q(300), base, 300, 24); // raw (marks say nothing is rolled yet)

    const r = await store.rollup(new Date());
    expect(r.minuteRows).toBe(120);
    expect(r.hourRows).toBe(2);

    // Prove which table answers: drop raw rows, then minute rows; the coarser steps still answer.
    await pgh.sql.query('DELETE FROM "VmSample"');
    expect(await q(10)).toEqual([]);
    expectBuckets(await q(300), base, 300, 24);
    expectBuckets(await q(60), base, 60, 120);
    await pgh.sql.query('DELETE FROM "VmSampleMinute"');
    expect(await q(300)).toEqual([]);
    expectBuckets(await q(3600), base, 3600, 2);
  });

  it('keeps last values of counters and weighted averages through the rollups', async () => {
    const base = await writeTwoHours(8);
    await store.rollup(new Date());
    const [h1, h2] = await store.history({ vmId: 8, from: new Date(base), to: new Date(base + 2 * HOUR), stepSec: 3600, fields: ['cputime', 'mem_pct', 'net_rxbytes_rate'] });
    expect(h1!.values.cputime!.max).toBe(Number(TWO_53 + 3599n * 1_000_000_007n));
    expect(h2!.values.cputime!.max).toBe(Number(TWO_53 + 7199n * 1_000_000_007n));
    expect(h1!.values.mem_pct).toEqual({ avg: 54.5, min: 40, max: 69 });
    expect(h2!.values.net_rxbytes_rate!.avg).toBeCloseTo(Array.from({ length: 3600 }, (_, k) => (3600 + k) % 1000).reduce((a, x) => a + x) / 3600, 9);
  });

  it('is idempotent: a second rollup changes nothing; late rows re-roll only their minutes', async () => {
    const base = await writeTwoHours(9);
    const now = new Date();
    await store.rollup(now);
    const digest = async (where = 'true') =>
      (await pgh.sql.query(`SELECT md5(string_agg(t::text, '|' ORDER BY "vmId", ts)) AS d FROM "VmSampleMinute" t WHERE ${where}`)).rows[0].d;
    const before = await digest();
    const again = await store.rollup(now);
    expect(again).toMatchObject({ minuteRows: 0, hourRows: 0 });
    expect(await digest()).toBe(before);

    // A late row for another VM, inside the first hour: its minute and hour appear, nothing else moves.
    await store.write([snap(10, base + 90_000, 0)]);
    const late = await store.rollup(now);
    expect(late.minuteRows).toBeGreaterThanOrEqual(120); // the window from the late minute onwards, re-rolled
    expect(await digest('"vmId" = 9')).toBe(before);
    expect(await count('VmSampleMinute', `"vmId" = 10`)).toBe(1);
    expect(await count('VmSampleHour', `"vmId" = 10`)).toBe(1);
  });

  it('includes the minutes not yet rolled up (last 15 min at 60 s)', async () => {
    const now = Date.now();
    const start = floorTo(now, MIN) - 15 * MIN;
    const rows = [];
    for (let t = start, i = 0; t <= now; t += 1000, i++) rows.push(snap(11, t, i));
    await store.write(rows);
    await store.rollup(new Date(now));
    const points = await store.history({ vmId: 11, from: new Date(now - 15 * MIN), to: new Date(now + 1), stepSec: 60, fields: ['cpu_pct'] });
    expect(points.at(-1)!.ts.getTime()).toBe(floorTo(now, MIN)); // the current, open minute (raw)
    expect(points.length).toBeGreaterThanOrEqual(15);
    for (let k = 1; k < points.length; k++) expect(points[k]!.ts.getTime() - points[k - 1]!.ts.getTime()).toBe(MIN); // no hole at the mark
  });

  it('history is bounded by from/to and rejects unknown fields and unbounded steps', async () => {
    const base = await writeTwoHours(12);
    const points = await store.history({ vmId: 12, from: new Date(base + 600_000), to: new Date(base + 660_000), stepSec: 1, fields: ['cpu_pct'] });
    expect(points).toHaveLength(60);
    expect(points[0]!.ts.getTime()).toBe(base + 600_000);
    expect(points.at(-1)!.ts.getTime()).toBe(base + 659_000);
    await expect(store.history({ vmId: 12, from: new Date(base), to: new Date(base + HOUR), stepSec: 60, fields: ['cpu_pct; DROP TABLE "VmSample"' as never] })).rejects.toThrow(/unknown history field/);
    await expect(store.history({ vmId: 12, from: new Date(0), to: new Date(), stepSec: 1, fields: ['cpu_pct'] })).rejects.toThrow(/buckets/);
    await expect(store.history({ vmId: 12, from: new Date(base), to: new Date(base), stepSec: 1, fields: ['cpu_pct'] })).rejects.toThrow(/from < to/);
  });
});

describe('latestValues and retention', () => {
  it('returns raw values newest first, limited, since a time', async () => {
    const base = await writeTwoHours(13);
    const rows = await store.latestValues(13, 'cpu_pct', 5, new Date(base));
    expect(rows.map((r) => r.ts.getTime())).toEqual([7199, 7198, 7197, 7196, 7195].map((i) => base + i * 1000));
    expect(rows.map((r) => r.value)).toEqual([7199, 7198, 7197, 7196, 7195].map(cpuPctOf));
    expect(await store.latestValues(13, 'cpu_pct', 100, new Date(base + 7198_000))).toHaveLength(2);
    expect(await store.latestValues(13, 'memrss', 10, new Date(base))).toEqual([]);
  });

  it('deletes what is past retention and keeps the rest', async () => {
    const now = Date.now();
    await store.write([snap(20, now - 30 * HOUR, 1), snap(20, now - 23 * HOUR, 2), snap(20, now - 10_000, 3)]);
    const rollupCols = '"vmId", ts, samples';
    await pgh.sql.query(
      `INSERT INTO "VmSampleMinute" (${rollupCols}) VALUES (21, $1, 1), (21, $2, 1);
       INSERT INTO "VmSampleHour" (${rollupCols}) VALUES (21, $3, 1), (21, $4, 1)`.replace(/\$(\d)/g, (_, d) => `'${new Date([now - 8 * 24 * HOUR, now - 6 * 24 * HOUR, now - 401 * 24 * HOUR, now - 399 * 24 * HOUR][d - 1]!).toISOString()}'`),
    );
    const r = await store.rollup(new Date(now));
    expect(r.retention).toMatchObject({ raw: 1, minute: 1, hour: 1 });
    expect(await count('VmSample', `"vmId" = 20`)).toBe(2);
    expect(await count('VmSampleMinute', `"vmId" = 21`)).toBe(1);
    // (the kept minute row has since been rolled into an hour row of its own: count only the old ones)
    expect(await count('VmSampleHour', `"vmId" = 21 AND ts < now() - interval '30 days'`)).toBe(1);
    // not due again for a few minutes
    expect((await store.rollup(new Date(now + 60_000))).retention).toBeNull();
  });

  it('honours configured retention', async () => {
    await store.close();
    store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0, retention: { rawHours: 1 } });
    const now = Date.now();
    await store.write([snap(30, now - 2 * HOUR, 1), snap(30, now - 10_000, 2)]);
    const r = await store.applyRetention(new Date(now));
    expect(r.raw).toBe(1);
  });
});
