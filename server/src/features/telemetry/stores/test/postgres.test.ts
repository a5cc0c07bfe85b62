// PostgreSQL metric history against a real embedded PostgreSQL (all migrations applied).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryPoint } from '../../../../domain/history.js';
import { decodeBlock } from '../postgres-block.js';
import { DERIVED_FIELDS } from '../postgres-columns.js';
import { decodeEntries, encodeEntries, type Entry } from '../postgres-entries.js';
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

const DAY = 24 * HOUR;
const count = async (table: string, where = 'true') =>
  Number((await pgh.sql.query(`SELECT count(*) AS n FROM "${table}" WHERE ${where}`)).rows[0].n);
/** A rollup tier's entries (decoded), for one VM. */
const entriesOf = async (table: string, vmId: number): Promise<Entry[]> =>
  (await pgh.sql.query(`SELECT data FROM "${table}" WHERE "vmId" = $1 ORDER BY ts`, [vmId])).rows.flatMap((r) => decodeEntries(r.data));

/** 2 hours at 1 s for one VM, from `base` (default: ending three hours ago), written 600 samples per call. */
async function writeTwoHours(vmId: number, base = floorTo(Date.now(), HOUR) - 3 * HOUR) {
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
  it('writes a minute of 1,000 VMs with ONE statement once the minute is over, none while it fills; BigInt exact past 2^53; missing stays missing', async () => {
    const minute = floorTo(Date.now(), MIN) - 10 * MIN;
    const tick = (k: number) => Array.from({ length: 1000 }, (_, v) => snap(v + 1, minute + k * 1000 + 7, v + k));
    const counter = countStatements('"VmSampleBlock"');
    try {
      for (let k = 0; k < 60; k++) await store.write(tick(k));
      expect(counter.n).toBe(0); // the minute is still filling: held in memory
      expect(store.status()).toMatchObject({ written: 0, bufferDepth: 60_000 });
      await store.write(tick(60)); // the first tick of the next minute closes it
    } finally {
      counter.restore();
    }
    expect(counter.n).toBe(1);
    expect(await count('VmSampleBlock')).toBe(1000);
    expect(store.status()).toMatchObject({ backend: 'postgres', written: 60_000, bufferDepth: 1000, dropped: 0, failedWrites: 0 });

    const { rows } = await pgh.sql.query(`SELECT ts, samples, data FROM "VmSampleBlock" WHERE "vmId" = 999`);
    expect(rows[0].ts.getTime()).toBe(minute + 7); // ms precision kept
    const back = decodeBlock(rows[0].data);
    expect(back).toHaveLength(60);
    expect(back[59]!.ts).toBe(minute + 59_007);
    expect(back[59]!.metrics.cputime).toBe(TWO_53 + BigInt(998 + 59) * 1_000_000_007n);
    expect(back[59]!.metrics.memrss).toBeUndefined();
    expect(back[59]!.metrics.disk_rd_bytes).toBeUndefined();
    const at = (f: string) => back[59]!.derived[DERIVED_FIELDS.indexOf(f as never)];
    expect([at('disk_rd_bytes_rate'), at('cpu_system_pct'), at('cpu_pct')]).toEqual([null, null, cpuPctOf(998 + 59)]);
  });

  it('stores NaN / Infinity derived values as no value, and an empty tick costs nothing', async () => {
    const ts = Date.now() - 5 * MIN;
    await store.write([snap(1, ts, 1, { memPct: Number.NaN, rates: { cputime: Infinity } })]);
    const counter = countStatements('"VmSampleBlock"');
    await store.write([]);
    counter.restore();
    expect(counter.n).toBe(0);
    await store.flush();
    const [s] = decodeBlock((await pgh.sql.query('SELECT data FROM "VmSampleBlock"')).rows[0].data);
    expect([s!.derived[DERIVED_FIELDS.indexOf('mem_pct')], s!.derived[DERIVED_FIELDS.indexOf('cputime_rate')]]).toEqual([null, null]);
    expect(await store.latestValues(1, 'mem_pct', 10, new Date(ts - 1))).toEqual([]);
  });

  it('shows what is still in memory: the open minute answers history before it is written', async () => {
    const now = Date.now();
    const t = floorTo(now, MIN) - MIN + 10_000; // two samples inside one minute
    await store.write([snap(2, t, 5), snap(2, t + 1_000, 6)]);
    expect(await count('VmSampleBlock')).toBe(0);
    const points = await store.history({ vmId: 2, from: new Date(now - 2 * MIN), to: new Date(now), stepSec: 1, fields: ['cpu_pct'] });
    expect(points.map((p) => p.values.cpu_pct!.avg)).toEqual([cpuPctOf(5), cpuPctOf(6)]);
    expect((await store.latestValues(2, 'cpu_pct', 5, new Date(now - 2 * MIN))).map((r) => r.value)).toEqual([cpuPctOf(6), cpuPctOf(5)]);
  });
});

describe('reads while a write is under way', () => {
  it('a minute being inserted is read from memory, once, before and after its INSERT commits', async () => {
    const minute = floorTo(Date.now(), MIN) - 5 * MIN;
    // the INSERT waits behind a lock that lets reads through
    const locker = await pgh.sql.connect();
    await locker.query('BEGIN; LOCK TABLE "VmSampleBlock" IN EXCLUSIVE MODE');
    for (let k = 0; k < 60; k++) await store.write([snap(3, minute + k * 1000, k)]);
    const closing = store.write([snap(3, minute + 60_000, 60)]); // closes the minute: its INSERT blocks
    await new Promise((r) => setTimeout(r, 300));
    const q = { vmId: 3, from: new Date(minute), to: new Date(minute + 2 * MIN), stepSec: 1, fields: ['cpu_pct' as const] };
    const during = await store.history(q);
    await locker.query('COMMIT');
    locker.release();
    await closing;
    expect(await count('VmSampleBlock', '"vmId" = 3')).toBe(1);
    const after = await store.history(q);
    expect(during.map((p) => p.values.cpu_pct!.avg)).toEqual(Array.from({ length: 61 }, (_, k) => cpuPctOf(k)));
    expect(after).toEqual(during);
  });
});

describe('history and rollups', () => {
  it('buckets 2 h of 1 s data with the right avg/min/max from raw, minute and hour tiers', async () => {
    // two days back, so that its day is over and the hour tier (rolled per day) holds it too;
    // raw kept 3 days so that the rollup's retention leaves it
    await store.close();
    store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0, retention: { rawHours: 72 } });
    const base = await writeTwoHours(7, floorTo(Date.now(), DAY) - 2 * DAY + 5 * HOUR);
    const q = (stepSec: number) => store.history({ vmId: 7, from: new Date(base), to: new Date(base + 2 * HOUR), stepSec, fields: ['cpu_pct', 'memrss'] });

    expectBuckets(await q(10), base, 10, 720); // raw, before any rollup
    expectBuckets(await q(300), base, 300, 24); // raw (marks say nothing is rolled yet)

    const r = await store.rollup(new Date());
    expect(r.minuteRows).toBe(120);
    expect(r.hourRows).toBe(2);

    // Prove which tier answers: drop raw blocks, then minute rows; the coarser steps still answer.
    await pgh.sql.query('DELETE FROM "VmSampleBlock"');
    expect(await q(10)).toEqual([]);
    expectBuckets(await q(300), base, 300, 24);
    expectBuckets(await q(60), base, 60, 120);
    await pgh.sql.query('DELETE FROM "VmMinuteBlock"');
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

  it('is idempotent: a second rollup changes nothing; late blocks re-roll only what they touch', async () => {
    const base = await writeTwoHours(9, floorTo(Date.now(), DAY) - 2 * DAY + 5 * HOUR);
    const now = new Date();
    await store.rollup(now);
    const digest = async (table: string, where = 'true') =>
      (await pgh.sql.query(`SELECT md5(string_agg(t::text, '|' ORDER BY "vmId", ts)) AS d FROM "${table}" t WHERE ${where}`)).rows[0].d;
    const before = [await digest('VmMinuteBlock'), await digest('VmHourBlock'), await digest('VmHourBlock', '"vmId" = 9')];
    const again = await store.rollup(now);
    expect(again).toMatchObject({ minuteRows: 0, hourRows: 0 });
    expect([await digest('VmMinuteBlock'), await digest('VmHourBlock'), await digest('VmHourBlock', '"vmId" = 9')]).toEqual(before);

    // A late block for another VM, inside the first hour: its minute and hour appear, VM 9's rows do not move.
    await store.write([snap(10, base + 90_000, 0)]);
    const late = await store.rollup(now);
    // VM 9's raw blocks are past raw retention by now: its minutes stay as they were, and its
    // hours, recomputed from them with VM 10's day, come out the same
    expect(late).toMatchObject({ minuteRows: 1, hourRows: 3 });
    expect(await digest('VmMinuteBlock', '"vmId" = 9')).toBe(before[0]);
    expect(await digest('VmHourBlock', '"vmId" = 9')).toBe(before[2]);
    expect((await entriesOf('VmMinuteBlock', 10)).map((e) => e.ts)).toEqual([base + MIN]);
    expect((await entriesOf('VmHourBlock', 10)).map((e) => e.ts)).toEqual([base]);
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
    await expect(store.history({ vmId: 12, from: new Date(base), to: new Date(base + HOUR), stepSec: 60, fields: ['cpu_pct; DROP TABLE "VmSampleBlock"' as never] })).rejects.toThrow(/unknown history field/);
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
    const tierRow = (table: string, ts: number) => {
      const e: Entry = { ts, n: 1, stats: [null], last: [null] };
      return pgh.sql.query(`INSERT INTO "${table}" ("vmId", ts, samples, data, summary) VALUES (21, $1, 1, $2, $2)`, [new Date(ts), Buffer.from(encodeEntries([e]))]);
    };
    await tierRow('VmMinuteBlock', floorTo(now - 8 * DAY, HOUR));
    await tierRow('VmMinuteBlock', floorTo(now - 6 * DAY, HOUR));
    await tierRow('VmHourBlock', floorTo(now - 401 * DAY, DAY));
    await tierRow('VmHourBlock', floorTo(now - 399 * DAY, DAY));
    const r = await store.rollup(new Date(now));
    expect(r.retention).toMatchObject({ raw: 1, minute: 1, hour: 1 });
    await store.flush(); // the open minute too
    expect(await count('VmSampleBlock', `"vmId" = 20`)).toBe(2);
    expect(await count('VmMinuteBlock', `"vmId" = 21`)).toBe(1);
    // (the kept minute row has since been rolled into an hour row of its own: count only the old ones)
    expect(await count('VmHourBlock', `"vmId" = 21 AND ts < now() - interval '30 days'`)).toBe(1);
    // the 30-hour-old sample is gone from raw, its minute is still in the minute tier
    const around = (stepSec: number) =>
      store.history({ vmId: 20, from: new Date(now - 31 * HOUR), to: new Date(now - 29 * HOUR), stepSec, fields: ['cpu_pct'] });
    expect(await around(1)).toEqual([]);
    expect((await around(60)).map((p) => p.values.cpu_pct!.avg)).toEqual([cpuPctOf(1)]);
    // not due again for a few minutes
    expect((await store.rollup(new Date(now + 60_000))).retention).toBeNull();
  });

  it('honours configured retention', async () => {
    await store.close();
    store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0, retention: { rawHours: 1 } });
    const now = Date.now();
    await store.write([snap(30, now - 2 * HOUR, 1), snap(30, now - 10_000, 2)]);
    // nothing is deleted before it is rolled up
    expect((await store.applyRetention(new Date(now))).raw).toBe(0);
    const r = await store.rollup(new Date(now));
    expect(r.retention!.raw).toBe(1);
  });
});
