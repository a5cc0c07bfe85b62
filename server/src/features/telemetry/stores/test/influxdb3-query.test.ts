import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, snapshotFixture, startInfluxFake, waitFor, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { historySql, latestSql } from '../influxdb3-query.js';
import { createInfluxStore } from '../influxdb3.js';
import type { HistoryField } from '../../../../domain/history.js';
import type { MetricStore } from '../store.js';

const TOKEN = 'apiv3_query-test-token';
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0); // a minute boundary
let fake: InfluxFake;
let store: MetricStore;

beforeAll(async () => {
  fake = await startInfluxFake({ token: TOKEN });
  store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 5000, batchMaxSec: 0.01, log: captureLogger().log });
  // Two minutes of 1 s samples for VMs 1 and 2; VM 1's last 30 s have no memory %.
  for (let i = 0; i < 120; i++) {
    await store.write([
      snapshotFixture(1, T0 + i * 1000, i, i >= 90 ? { memPct: null } : {}),
      snapshotFixture(2, T0 + i * 1000, i, { cpuPct: { user: 1, system: 1, total: 2 } }),
    ]);
  }
  await waitFor(() => store.status().written === 240 && store.status().bufferDepth === 0, 5000, 'seed data');
});
afterAll(async () => { await store.close(); await fake.close(); });

describe('InfluxDB 3 history through /api/v3/query_sql', () => {
  it('returns time buckets with avg/min/max per field, for one VM, within [from, to)', async () => {
    const points = await store.history({
      vmId: 1, from: new Date(T0), to: new Date(T0 + 120_000), stepSec: 60, fields: ['cpu_pct', 'cputime', 'mem_pct', 'cputime_rate'],
    });
    expect(points.map((p) => p.ts.toISOString())).toEqual([new Date(T0).toISOString(), new Date(T0 + 60_000).toISOString()]);
    // cpu_pct = 15 + (tick % 10): 15..24, average 19.5 in every full minute
    expect(points[0]!.values.cpu_pct).toEqual({ avg: 19.5, min: 15, max: 24 });
    expect(points[0]!.values.cputime!.min).toBe(Number(9_007_199_254_740_993n));
    expect(points[0]!.values.cputime_rate).toEqual({ avg: 1e9, min: 1e9, max: 1e9 });
    expect(points[1]!.values.mem_pct).toEqual({ avg: 50, min: 50, max: 50 });

    const narrow = await store.history({ vmId: 1, from: new Date(T0 + 95_000), to: new Date(T0 + 100_000), stepSec: 1, fields: ['mem_pct', 'cpu_pct'] });
    expect(narrow).toHaveLength(5);
    expect(narrow[0]!.values.mem_pct).toBeUndefined(); // no data, not zero
    expect(narrow[0]!.values.cpu_pct!.avg).toBe(20);
  });

  it('latestValues: newest first, limited, from `since` on', async () => {
    const got = await store.latestValues(2, 'timeusr', 3, new Date(T0));
    expect(got).toEqual([
      { ts: new Date(T0 + 119_000), value: 5_000_000_119 },
      { ts: new Date(T0 + 118_000), value: 5_000_000_118 },
      { ts: new Date(T0 + 117_000), value: 5_000_000_117 },
    ]);
    const since = await store.latestValues(1, 'mem_pct', 100, new Date(T0 + 80_000));
    expect(since).toHaveLength(10); // 80..89 s; later rows have no mem_pct
    expect(since[0]!.ts).toEqual(new Date(T0 + 89_000));
    expect(await store.latestValues(3, 'cputime', 10, new Date(T0))).toEqual([]);
  });

  it('builds only bounded SQL and refuses anything outside the whitelist', async () => {
    const sql = historySql({ vmId: 7, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 30, fields: ['cpu_pct'] });
    expect(sql).toBe(
      `SELECT date_bin(INTERVAL '30 seconds', time) AS bucket, avg("cpu_pct") AS "cpu_pct__avg", min("cpu_pct") AS "cpu_pct__min", max("cpu_pct") AS "cpu_pct__max"`
      + ` FROM vmpulse_vm WHERE vm_id = '7' AND time >= '2025-06-01T12:00:00.000Z' AND time < '2025-06-01T12:00:01.000Z' GROUP BY bucket ORDER BY bucket`,
    );
    expect(latestSql(7, 'cputime', 5, new Date(T0), T0)).toMatch(/time >= '2025-06-01T12:00:00.000Z' AND time < '2025-06-01T12:05:00.000Z' ORDER BY time DESC LIMIT 5$/);

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
    const before = fake.requests.length;
    for (const call of bad) await expect(call()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(fake.requests.length).toBe(before); // refused before any SQL reached the server
  });

  it('answers empty history before anything was written or for unreported fields, and 503s when the server is down', async () => {
    const empty = await startInfluxFake({ token: TOKEN });
    const s = createInfluxStore({ url: empty.url, database: 'vmstats', token: TOKEN, batchMaxLines: 10, batchMaxSec: 1, log: captureLogger().log });
    expect(await s.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 1, fields: ['cputime'] })).toEqual([]);
    // A column no VM ever reported (here cpu_user_pct) is "no data", not a failed query.
    await s.write([snapshotFixture(1, T0, 0, { cpuPct: { user: null, system: null, total: 3 } })]);
    await waitFor(() => s.status().written === 1, 2000, 'one row');
    const points = await s.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 1, fields: ['cpu_user_pct', 'cpu_pct'] });
    expect(points).toEqual([{ ts: new Date(T0), values: { cpu_pct: { avg: 3, min: 3, max: 3 } } }]);
    expect(await s.latestValues(1, 'cpu_user_pct', 5, new Date(T0))).toEqual([]);
    await empty.setMode('refuse');
    await expect(s.latestValues(1, 'cputime', 1, new Date(T0))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/unreachable.*(ECONNREFUSED|UND_ERR_SOCKET)/) });
    await s.close();
    await empty.close();
  });
});
