// Measurements on a real embedded PostgreSQL (numbers printed; loose ceilings only catch
// regressions by an order of magnitude, this machine's speed is not the point).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore, type PostgresMetricStore } from '../postgres.js';
import { HOUR, MIN, countStatements, floorTo, log, median, snap, startPostgres, truncateAll } from './postgres-fixtures.js';

let pgh: Awaited<ReturnType<typeof startPostgres>>;
let store: PostgresMetricStore;
const report: Record<string, string> = {};

beforeAll(async () => {
  pgh = await startPostgres();
  await truncateAll(pgh.sql);
  store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0 });
});
afterAll(async () => {
  console.log('[pg store measurements]\n' + Object.entries(report).map(([k, v]) => `  ${k.padEnd(46)} ${v}`).join('\n'));
  await store?.close();
  await pgh?.stop();
});

const ms = (x: number) => `${x.toFixed(1)} ms`;

it('inserts one tick of 1,000 VMs in one statement (50 ticks)', async () => {
  const base = Date.now() - 10 * MIN;
  const times: number[] = [];
  const counter = countStatements('"VmSample"');
  for (let k = 0; k < 50; k++) {
    const tick = Array.from({ length: 1000 }, (_, v) => snap(1000 + v, base + k * 1000, k + v));
    const t0 = performance.now();
    await store.write(tick);
    times.push(performance.now() - t0);
  }
  counter.restore();
  expect(counter.n).toBe(50);
  expect(store.status().written).toBe(50_000);
  const sorted = [...times].sort((a, b) => a - b);
  report['insert 1,000 VMs, one tick: median / p95 / max'] = `${ms(median(times))} / ${ms(sorted[47]!)} / ${ms(sorted[49]!)}`;
  report['  (of which PostgreSQL execution, last tick)'] = ms(store.status().lastWriteMs!);
  expect(median(times)).toBeLessThan(500);
});

it('rolls up an hour of 100 VMs at 1 s (360,000 raw rows)', async () => {
  await truncateAll(pgh.sql);
  store = (await store.close(), createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0 }));
  const base = floorTo(Date.now(), HOUR) - 2 * HOUR;
  const t0 = performance.now();
  for (let s = 0; s < 3600; s += 10) {
    const rows = [];
    for (let k = s; k < s + 10; k++) for (let v = 0; v < 100; v++) rows.push(snap(v + 1, base + k * 1000, k));
    await store.write(rows);
  }
  report['  load: 360,000 rows in 1,000-row statements'] = ms(performance.now() - t0);
  await pgh.sql.query('VACUUM ANALYZE "VmSample"');
  const r = await store.rollup(new Date());
  expect(r.minuteRows).toBe(6000);
  expect(r.hourRows).toBe(100);
  report['rollup 1 h x 100 VMs (raw→minute→hour)'] = ms(r.ms);
  const again = await store.rollup(new Date());
  report['  next rollup, nothing new'] = ms(again.ms);
  expect(r.ms).toBeLessThan(30_000);
});

it('answers 24 h at a 60 s step', async () => {
  const now = Date.now();
  const start = floorTo(now, MIN) - 24 * HOUR + MIN;
  await truncateAll(pgh.sql);
  store = (await store.close(), createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0 }));
  const t0 = performance.now();
  // A full day at 1 s for 21 VMs, interleaved per tick as the collector writes them; generated
  // inside PostgreSQL because loading 1.8 M rows through the client would dominate the test.
  const { rowCount } = await pgh.sql.query(
    `INSERT INTO "VmSample" ("vmId", ts, state, cpus, cputime, memavailable, cpu_pct, mem_pct, net_rxbytes_rate)
     SELECT v, to_timestamp((${start}::int8 + k * 1000) / 1000.0), 'running', 2, k::int8 * 1000000, 1000000 + k % 500, (k * 7) % 101, 40 + k % 30, k % 1000
     FROM generate_series(0, ${Math.floor((now - start) / 1000)}) k, generate_series(1, 21) v ORDER BY k, v`,
  );
  report['  load: 24 h x 21 VMs at 1 s (server-side)'] = `${ms(performance.now() - t0)} (${rowCount} rows)`;
  await pgh.sql.query('VACUUM ANALYZE "VmSample"');
  const q = () => store.history({ vmId: 1, from: new Date(now - 24 * HOUR), to: new Date(now), stepSec: 60, fields: ['cpu_pct', 'mem_pct', 'net_rxbytes_rate', 'memavailable'] });
  const timed = async () => {
    const runs: number[] = [];
    let n = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      n = (await q()).length;
      runs.push(performance.now() - t);
    }
    return { median: median(runs), n };
  };
  const fromRaw = await timed();
  report['history 24 h / 60 s, 4 fields, from raw (not rolled)'] = `${ms(fromRaw.median)} (${fromRaw.n} points)`;
  const r = await store.rollup(new Date(now));
  report['  rollup of that day (21 VMs)'] = ms(r.ms);
  await pgh.sql.query('VACUUM ANALYZE "VmSampleMinute"');
  const fromMinutes = await timed();
  report['history 24 h / 60 s, 4 fields, from 1-minute rollup'] = `${ms(fromMinutes.median)} (${fromMinutes.n} points)`;
  expect(fromMinutes.n).toBeGreaterThanOrEqual(1439);
  expect(fromMinutes.median).toBeLessThan(2_000);
  const week = performance.now();
  await store.history({ vmId: 1, from: new Date(now - 7 * 24 * HOUR), to: new Date(now), stepSec: 3600, fields: ['cpu_pct'] });
  report['history 7 d / 1 h (hour + minute + raw tiers)'] = ms(performance.now() - week);
});
