// History from InfluxDB 3 within Core's query file limit: raw rows for short steps, vmpulse's rollups for
// long ones, windows that each select at most a few hundred Parquet files, narrower windows when Core still
// refuses, and "no data yet" for databases, tables and columns never written. Expected numbers are computed
// in the tests from the samples written, not read back from the implementation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxFake, type FakeOptions, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { createInfluxStore } from '../influxdb3.js';
import type { HistoryField } from '../../../../domain/history.js';
import type { MetricStore } from '../store.js';
import { captureLogger, snapshotFixture, waitFor } from './influxdb3-fixtures.js';

const TOKEN = 'apiv3_query-test-token';
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0); // a minute and hour boundary
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const queries = (f: InfluxFake) => f.requests.filter((r) => r.path === '/api/v3/query_sql');

async function openStore(fakeOpts: FakeOptions, now: () => number): Promise<{ fake: InfluxFake; store: MetricStore }> {
  const fake = await startInfluxFake({ token: TOKEN, ...fakeOpts });
  const store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 5000, batchMaxSec: 0.01, log: captureLogger().log, clock: now });
  return { fake, store };
}

describe('InfluxDB 3 history: the last minutes', () => {
  let fake: InfluxFake;
  let store: MetricStore;
  const now = T0 + 125_000;

  beforeAll(async () => {
    ({ fake, store } = await openStore({}, () => now));
    // Two minutes of 1 s samples for VMs 1 and 2 (cpu_pct = 15 + tick % 10); VM 1's last 30 s have no memory %;
    // VM 3 has one sample three days earlier.
    await store.write([snapshotFixture(3, T0 - 3 * DAY, 0)]);
    for (let i = 0; i < 120; i++) {
      await store.write([
        snapshotFixture(1, T0 + i * 1000, i, i >= 90 ? { memPct: null } : {}),
        snapshotFixture(2, T0 + i * 1000, i, { cpuPct: { user: 1, system: 1, total: 2 } }),
      ]);
    }
    await waitFor(() => store.status().written === 241 && store.status().bufferDepth === 0, 5000, 'seed data');
  });
  afterAll(async () => { await store.close(); await fake.close(); });

  it('step < 60 s: raw buckets with avg/min/max per field, within [from, to), no data where a field was not reported', async () => {
    const points = await store.history({ vmId: 1, from: new Date(T0 + 85_000), to: new Date(T0 + 95_000), stepSec: 5, fields: ['cpu_pct', 'mem_pct', 'cputime_rate'] });
    expect(points.map((p) => p.ts.getTime())).toEqual([T0 + 85_000, T0 + 90_000]);
    // ticks 85..89: cpu_pct 20..24
    expect(points[0]!.values.cpu_pct).toEqual({ avg: 22, min: 20, max: 24 });
    expect(points[0]!.values.cputime_rate).toEqual({ avg: 1e9, min: 1e9, max: 1e9 });
    expect(points[0]!.values.mem_pct).toEqual({ avg: 50, min: 50, max: 50 });
    expect(points[1]!.values.mem_pct).toBeUndefined(); // no data, not zero
  });

  it('step ≥ 60 s: closed minutes from the 1-minute rollup, the open tail from raw rows, same averages', async () => {
    const before = queries(fake).length;
    const points = await store.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 120_000), stepSec: 60, fields: ['cpu_pct', 'cputime', 'mem_pct'] });
    const tables = queries(fake).slice(before).map((q) => /FROM (\w+)/.exec(q.sql!)![1]);
    expect(tables).toEqual(['vmpulse_vm_1m', 'vmpulse_vm']);
    expect(points.map((p) => p.ts.getTime())).toEqual([T0, T0 + 60_000]);
    for (const p of points) expect(p.values.cpu_pct).toEqual({ avg: 19.5, min: 15, max: 24 }); // 60 ticks of 15..24
    expect(points[1]!.values.mem_pct).toEqual({ avg: 50, min: 50, max: 50 }); // 30 of the 60 samples had it
    // a counter's rollup value is its value at the end of the minute (tick 59)
    expect(points[0]!.values.cputime!.avg).toBe(Number(9_007_199_254_740_993n + 59n * 1_000_000n));
  });

  it('latestValues: newest first, limited; a recent VM takes one query of the last hour', async () => {
    const before = queries(fake).length;
    expect(await store.latestValues(2, 'timeusr', 3, new Date(T0 - 7 * DAY))).toEqual([
      { ts: new Date(T0 + 119_000), value: 5_000_000_119 },
      { ts: new Date(T0 + 118_000), value: 5_000_000_118 },
      { ts: new Date(T0 + 117_000), value: 5_000_000_117 },
    ]);
    expect(queries(fake).length - before).toBe(1);
    const since = await store.latestValues(1, 'mem_pct', 100, new Date(T0 + 80_000));
    expect(since).toHaveLength(10); // 80..89 s; later rows have no mem_pct
    expect(since[0]!.ts).toEqual(new Date(T0 + 89_000));
  });

  it('latestValues widens its window (1 h, 6 h, 24 h, 48 h…) instead of scanning 7 days at once', async () => {
    const before = queries(fake).length;
    expect(await store.latestValues(3, 'timeusr', 5, new Date(T0 - 7 * DAY))).toEqual([{ ts: new Date(T0 - 3 * DAY), value: 5_000_000_000 }]);
    const spans = queries(fake).slice(before).map((q) => {
      const [, from, to] = /time >= '([^']+)' AND time < '([^']+)'/.exec(q.sql!)!;
      return (Date.parse(to!) - Date.parse(from!)) / HOUR;
    });
    expect(spans.slice(0, 4)).toEqual([1, 6, 24, 48]);
    expect(Math.max(...spans)).toBeLessThanOrEqual(48);
    expect(spans.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(7 * 24 + 1);
  });

  it('sends only bounded SQL and refuses anything outside the whitelist before any request', async () => {
    const before = queries(fake).length;
    await store.history({ vmId: 7, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 30, fields: ['cpu_pct'] });
    await store.latestValues(7, 'cputime', 5, new Date(now - HOUR));
    expect(queries(fake).slice(before).map((q) => q.sql)).toEqual([
      `SELECT date_bin(INTERVAL '30 seconds', time) AS bucket, avg("cpu_pct") AS "cpu_pct__avg", count("cpu_pct") AS "cpu_pct__n", min("cpu_pct") AS "cpu_pct__min", max("cpu_pct") AS "cpu_pct__max"`
      + ` FROM vmpulse_vm WHERE vm_id = '7' AND time >= '2025-06-01T12:00:00.000Z' AND time < '2025-06-01T12:00:01.000Z' GROUP BY bucket ORDER BY bucket`,
      // the last hour (up to 5 min ahead: host clocks), then what is left back to `since`
      `SELECT time, "cputime" AS value FROM vmpulse_vm WHERE vm_id = '7' AND "cputime" IS NOT NULL AND time >= '2025-06-01T11:07:05.000Z' AND time < '2025-06-01T12:07:05.000Z' ORDER BY time DESC LIMIT 5`,
      `SELECT time, "cputime" AS value FROM vmpulse_vm WHERE vm_id = '7' AND "cputime" IS NOT NULL AND time >= '2025-06-01T11:02:05.000Z' AND time < '2025-06-01T11:07:05.000Z' ORDER BY time DESC LIMIT 5`,
    ]);
    const bad = [
      () => store.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1), stepSec: 1, fields: [`cputime") FROM x; --` as HistoryField] }),
      () => store.history({ vmId: 1.5, from: new Date(T0), to: new Date(T0 + 1), stepSec: 1, fields: ['cputime'] }),
      () => store.history({ vmId: Number.NaN, from: new Date(T0), to: new Date(T0 + 1), stepSec: 1, fields: ['cputime'] }),
      () => store.history({ vmId: 1, from: new Date(T0), to: new Date(T0), stepSec: 1, fields: ['cputime'] }),
      () => store.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1), stepSec: 0.5, fields: ['cputime'] }),
      () => store.history({ vmId: 1, from: new Date('nope'), to: new Date(T0 + 1), stepSec: 1, fields: ['cputime'] }),
      () => store.latestValues(1, 'state' as HistoryField, 10, new Date(T0)),
      () => store.latestValues(1, 'cputime', 0, new Date(T0)),
    ];
    const sent = fake.requests.length;
    for (const call of bad) await expect(call()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(fake.requests.length).toBe(sent);
  });
});

describe('InfluxDB 3 history: nothing written yet, unreported fields, server away', () => {
  it('reads "database not found" (404) as no data yet', async () => {
    const { fake, store } = await openStore({}, Date.now);
    expect(await store.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 1, fields: ['cputime'] })).toEqual([]);
    expect(await store.latestValues(1, 'cputime', 5, new Date(T0))).toEqual([]);
    expect(queries(fake).map((q) => q.status)).toEqual([404, 404]);
    await store.close();
    await fake.close();
  });

  it('reads a column never written (Core: 500 "No field named") as no data for that field', async () => {
    const { fake, store } = await openStore({}, () => T0 + 10_000);
    await store.write([snapshotFixture(1, T0, 0, { cpuPct: { user: null, system: null, total: 3 } })]);
    await waitFor(() => store.status().written === 1, 2000, 'one row');
    const points = await store.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 1, fields: ['cpu_user_pct', 'cpu_pct'] });
    expect(points).toEqual([{ ts: new Date(T0), values: { cpu_pct: { avg: 3, min: 3, max: 3 } } }]);
    expect(await store.latestValues(1, 'cpu_user_pct', 5, new Date(T0))).toEqual([]);
    expect(queries(fake).some((q) => q.status === 500)).toBe(true);
    await store.close();
    await fake.close();
  });

  it('answers 503 with the reason when the server is unreachable', async () => {
    const { fake, store } = await openStore({}, Date.now);
    await fake.setFault('refuse');
    await expect(store.latestValues(1, 'cputime', 1, new Date(T0))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/unreachable for queries.*(ECONNREFUSED|UND_ERR_SOCKET)/) });
    await expect(store.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 1, fields: ['cputime'] })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await store.close();
    await fake.close();
  });
});

describe('InfluxDB 3 history over days: under the query file limit', () => {
  /** One VM sampled every 10 minutes for `days` days: cpu_pct cycles 0, 10, …, 60. */
  async function seed(fakeOpts: FakeOptions, days: number, everyMs = 600_000) {
    const end = T0 + days * DAY;
    const { fake, store } = await openStore(fakeOpts, () => end + 60_000);
    const samples: { ts: number; pct: number }[] = [];
    for (let ts = T0, i = 0; ts < end; ts += everyMs, i++) {
      const pct = (i % 7) * 10;
      samples.push({ ts, pct });
      await store.write([snapshotFixture(9, ts, i, { cpuPct: { user: null, system: null, total: pct } })]);
    }
    await store.write([snapshotFixture(10, end + 50_000, 0)]); // the collector keeps ticking: VM 9's last buckets close
    await waitFor(() => store.status().bufferDepth === 0, 20_000, 'seed');
    expect(store.status()).toMatchObject({ rejectedLines: 0, dropped: 0 });
    return { fake, store, samples, end };
  }
  /**
   * The oracle: bucket averages straight from the samples. A rollup row stands at its minute's or hour's start,
   * so a bucket holds the rollup periods (`unitMs`) that start in it.
   */
  const expected = (samples: { ts: number; pct: number }[], from: number, stepSec: number, unitMs: number) => {
    const buckets = new Map<number, number[]>();
    for (const s of samples) {
      const b = Math.floor(Math.floor(s.ts / unitMs) * unitMs / (stepSec * 1000)) * stepSec * 1000;
      if (s.ts >= from) buckets.set(b, [...(buckets.get(b) ?? []), s.pct]);
    }
    return [...buckets].map(([ts, v]) => ({ ts, avg: v.reduce((a, x) => a + x, 0) / v.length, min: Math.min(...v), max: Math.max(...v) }));
  };

  it('30 days: read from the 1-hour rollup in windows of ≤ 432 files; the same range on raw rows would be refused', async () => {
    const { fake, store, samples, end } = await seed({}, 30);
    const from = end - 30 * DAY;
    const stepSec = Math.ceil((30 * DAY) / 1000 / 300); // the service's default: ~300 points
    const before = queries(fake).length;
    const points = await store.history({ vmId: 9, from: new Date(from), to: new Date(end), stepSec, fields: ['cpu_pct'] });
    const issued = queries(fake).slice(before);
    expect(issued.every((q) => q.status === 200 && q.files! <= 432)).toBe(true);
    expect(issued.filter((q) => q.sql!.includes('FROM vmpulse_vm_1h')).length).toBeGreaterThanOrEqual(3);
    expect(points.map((p) => ({ ts: p.ts.getTime(), ...p.values.cpu_pct }))).toEqual(expected(samples, from, stepSec, HOUR));
    // the raw table holds 4,320 ten-minute files for this VM: Core refuses to scan them in one query
    const raw = await fetch(`${fake.url}/api/v3/query_sql`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ db: 'vmstats', q: `SELECT time, "cpu_pct" AS v FROM vmpulse_vm WHERE vm_id = '9' AND time >= '${new Date(from).toISOString()}' AND time < '${new Date(end).toISOString()}'` }),
    });
    expect(raw.status).toBe(500);
    expect(await raw.text()).toMatch(/exceeding the file limit/);
    await store.close();
    await fake.close();
  }, 60_000);

  it('a server with a shorter gen1 duration (1 minute): refused windows are halved until Core accepts them', async () => {
    const { fake, store, samples, end } = await seed({ gen1Ms: 60_000 }, 2, 60_000); // a sample a minute: a file a minute
    const from = end - 2 * DAY;
    const stepSec = Math.ceil((2 * DAY) / 1000 / 300);
    const before = queries(fake).length;
    const points = await store.history({ vmId: 9, from: new Date(from), to: new Date(end), stepSec, fields: ['cpu_pct'] });
    const issued = queries(fake).slice(before);
    expect(issued.some((q) => q.status === 500)).toBe(true); // the first 48 h window was refused…
    expect(issued.filter((q) => q.status === 200).every((q) => q.files! <= 432)).toBe(true); // …narrower ones were not
    expect(points.map((p) => ({ ts: p.ts.getTime(), ...p.values.cpu_pct }))).toEqual(expected(samples, from, stepSec, 60_000));
    await store.close();
    await fake.close();
  }, 60_000);

  it('when even one hour is over the limit: a 503 naming the limit, never a 500', async () => {
    const { fake, store, end } = await seed({ gen1Ms: 60_000, queryFileLimit: 5 }, 0.25, 60_000);
    await expect(store.history({ vmId: 9, from: new Date(end - 6 * HOUR), to: new Date(end), stepSec: 120, fields: ['cpu_pct'] }))
      .rejects.toMatchObject({ code: 'UNAVAILABLE', status: 503, message: expect.stringMatching(/query file limit.*INFLUXDB3_QUERY_FILE_LIMIT.*exceeding the file limit/) });
    await store.close();
    await fake.close();
  });
});
