// Measurements on a real embedded PostgreSQL (numbers printed; loose ceilings only catch
// regressions by an order of magnitude, this machine's speed is not the point). The disk figure
// and query percentiles at 1,000 VMs are bench/'s (`pnpm --filter @vmpulse/bench history-disk`).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore, type PostgresMetricStore } from '../postgres.js';
import { HOUR, MIN, countStatements, floorTo, log, median, randomFleet, startPostgres, truncateAll } from './postgres-fixtures.js';

let pgh: Awaited<ReturnType<typeof startPostgres>>;
let store: PostgresMetricStore;
const report: Record<string, string> = {};

beforeAll(async () => {
  pgh = await startPostgres();
  await truncateAll(pgh.sql);
  store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0 });
});
afterAll(async () => {
  console.log(`[pg store measurements]\n${Object.entries(report).map(([k, v]) => `  ${k.padEnd(52)} ${v}`).join('\n')}`);
  await store?.close();
  await pgh?.stop();
});

const ms = (x: number) => `${x.toFixed(1)} ms`;

it('takes a tick of 1,000 VMs into memory, and writes their minute in one statement', async () => {
  const base = floorTo(Date.now(), MIN) - 10 * MIN;
  const fleet = randomFleet({ vms: 1000, start: base, ticks: 61, seed: 1 });
  const times: number[] = [];
  const counter = countStatements('"VmSampleBlock"');
  for (const tick of fleet.slice(0, 60)) {
    const t0 = performance.now();
    await store.write(tick);
    times.push(performance.now() - t0);
  }
  const t0 = performance.now();
  await store.write(fleet[60]!); // closes the minute: 1,000 blocks encoded and written
  const minuteMs = performance.now() - t0;
  counter.restore();
  expect(counter.n).toBe(1);
  const sorted = [...times].sort((a, b) => a - b);
  report['tick of 1,000 VMs into memory: median / p95 / max'] = `${ms(median(times))} / ${ms(sorted[56]!)} / ${ms(sorted[59]!)}`;
  report['minute close: encode 1,000 blocks + one INSERT'] = `${ms(minuteMs)} (of which PostgreSQL ${ms(store.status().lastWriteMs!)})`;
  expect(median(times)).toBeLessThan(500);
});

it('rolls up an hour of 100 VMs at 1 s (6,000 blocks) from their summaries', async () => {
  await store.close(); // flushes the open minute of the test before: then start empty
  await truncateAll(pgh.sql);
  store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0 });
  const base = floorTo(Date.now(), HOUR) - 2 * HOUR;
  const fleet = randomFleet({ vms: 100, start: base, ticks: 3600, seed: 2 });
  const vmMinutes = new Set(fleet.flat().map((s) => `${s.vmId} ${floorTo(s.ts, MIN)}`)).size; // VMs shut off for a while have fewer
  const t0 = performance.now();
  for (const tick of fleet) await store.write(tick);
  report['  load: 360,000 samples, tick by tick'] = ms(performance.now() - t0);
  const r = await store.rollup(new Date());
  expect(r.minuteRows).toBe(vmMinutes);
  report['rollup 1 h x 100 VMs (raw → minute tier)'] = ms(r.ms);
  const again = await store.rollup(new Date());
  report['  next rollup, nothing new'] = ms(again.ms);
  expect(r.ms).toBeLessThan(30_000);
});

it('answers 24 h at a 60 s step, from raw blocks and from the minute tier', async () => {
  const now = Date.now();
  await store.close(); // flushes the open minute of the test before: then start empty
  await truncateAll(pgh.sql);
  store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0 });
  const fleet = randomFleet({ vms: 2, start: now - 24 * HOUR, ticks: 24 * 3600 - 10, seed: 3 });
  // whole minutes from `from` on (a minute-step answer starts at the first minute that starts in range)
  const minutes = new Set(fleet.flat().filter((s) => s.vmId === 1 && floorTo(s.ts, MIN) >= now - 24 * HOUR).map((s) => floorTo(s.ts, MIN))).size;
  const t0 = performance.now();
  for (const tick of fleet) await store.write(tick);
  report['  load: 24 h x 2 VMs at 1 s'] = ms(performance.now() - t0);
  const fields = ['cpu_pct', 'mem_pct', 'net_rxbytes_rate', 'memrss'] as const;
  const q = () => store.history({ vmId: 1, from: new Date(now - 24 * HOUR), to: new Date(now), stepSec: 60, fields: [...fields] });
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
  // Marks not loaded yet would read raw; load them as the store does at its first read.
  const fromRaw = await timed();
  report['history 24 h / 60 s, 4 fields, summarised from raw'] = `${ms(fromRaw.median)} (${fromRaw.n} points)`;
  const r = await store.rollup(new Date(now));
  report['  rollup of that day (2 VMs)'] = ms(r.ms);
  const fromMinutes = await timed();
  report['history 24 h / 60 s, 4 fields, from the minute tier'] = `${ms(fromMinutes.median)} (${fromMinutes.n} points)`;
  expect(fromRaw.n).toBe(minutes);
  expect(fromMinutes.n).toBe(minutes);
  expect(fromMinutes.median).toBeLessThan(2_000);
  const week = performance.now();
  await store.history({ vmId: 1, from: new Date(now - 7 * 24 * HOUR), to: new Date(now), stepSec: 3600, fields: ['cpu_pct'] });
  report['history 7 d / 1 h (hour + minute tiers + raw)'] = ms(performance.now() - week);
});
