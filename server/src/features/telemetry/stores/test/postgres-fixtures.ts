// Shared by the postgres*.test.ts files: a real embedded PostgreSQL with every migration applied,
// synthetic snapshots, and a statement counter on the `pg` client the store uses.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { COUNTER_METRICS, GAUGE_METRICS, type MetricName } from '../../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../../domain/snapshot.js';
import { derive } from '../../collector/rates.js';
import { openDatabase, type Database } from '../../../../lib/db.js';
import { createLogger } from '../../../../lib/logger.js';

export const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
export { floorTo } from '../../../../lib/time.js';
export { HOUR_MS as HOUR, MINUTE_MS as MIN } from '../../../../lib/time.js';
export const TWO_53 = 2n ** 53n;

export async function startPostgres(): Promise<{ db: Database; sql: pg.Pool; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-pgstore-'));
  const db = await openDatabase({ dataDir: dir, log });
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  // An idle client that sees the server stop (its 57P01, as stop() ends the pool and then the
  // server) is an 'error' on the pool: without a listener, an uncaught exception in the test run.
  sql.on('error', () => {});
  return {
    db,
    sql,
    async stop() {
      await sql.end();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const truncateAll = (sql: pg.Pool) => sql.query('TRUNCATE "VmSampleBlock", "VmMinuteBlock", "VmHourBlock"');

/** A VM at one instant; `i` drives every value so tests can recompute what they expect. */
export function snap(vmId: number, ts: number, i: number, over: Partial<MetricSnapshot> = {}): MetricSnapshot {
  return {
    vmId, hostId: 1, hostName: 'h', vmName: `vm${vmId}`, uuid: `u${vmId}`, ts, state: 'running', cpus: 2,
    metrics: {
      cputime: TWO_53 + BigInt(i) * 1_000_000_007n,
      timeusr: BigInt(i) * 3n,
      memactual: 1_048_576n,
      memavailable: 1_000_000n + BigInt(i % 500),
      net_rxbytes: BigInt(i) * 1500n,
      // memrss and the disk counters are deliberately absent: they must read back as NULL
    },
    nics: [], disks: [], memoryMax: 2_097_152n,
    rates: { cputime: (i % 200) * 1e6, net_rxbytes: i % 1000 },
    angles: {},
    cpuPct: { total: cpuPctOf(i), user: cpuPctOf(i) / 2, system: null },
    memPct: 40 + (i % 30),
    stale: false, ageMs: 0,
    ...over,
  };
}
export const cpuPctOf = (i: number) => (i * 7) % 101;

/** A seeded generator (mulberry32): the same series on every run. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), chance: (p: number) => next() < p };
}

/**
 * Ticks of a fleet as the metrics service makes them (rates and percentages by the collector's
 * `derive` against the VM's previous snapshot), with what real fleets do to a series: VMs shut
 * off and restarted (counters start over), ticks lost (gaps), metrics that come and go, ticks
 * sampled but never stored (their successor's rates span a stored gap), NaN from upstream, and
 * counters past 2^53. `bigValues` adds sums past 2^63 (the old layout's int8 could not hold them).
 */
export function randomFleet(opts: { vms: number; start: number; ticks: number; seed: number; bigValues?: boolean }): MetricSnapshot[][] {
  const r = random(opts.seed);
  type Vm = { id: number; cpus: number; memoryMax: bigint; metrics: Partial<Record<MetricName, bigint>>; prev?: MetricSnapshot; off: number; absent: Set<MetricName> };
  const fresh = (): Partial<Record<MetricName, bigint>> => Object.fromEntries(COUNTER_METRICS.map((m) => [m, BigInt(r.int(1000))]));
  const vms: Vm[] = Array.from({ length: opts.vms }, (_, i) => {
    const metrics = fresh();
    if (i % 2 === 0) metrics.cputime = TWO_53 + BigInt(r.int(1e9)); // a VM up for ~104 days
    if (opts.bigValues && i % 3 === 0) metrics.net_rxbytes = 2n ** 63n + BigInt(r.int(1e9));
    // some VMs never report some metrics (no balloon driver, no disk)
    const absent = new Set<MetricName>(i % 3 === 1 ? ['memusable', 'memavailable', 'disk_errors'] : i % 4 === 2 ? ['memrss'] : []);
    return { id: i + 1, cpus: 1 + r.int(8), memoryMax: BigInt(1 + r.int(16)) * 1_048_576n, metrics, off: 0, absent };
  });
  const ticks: MetricSnapshot[][] = [];
  for (let k = 0; k < opts.ticks; k++) {
    const ts = opts.start + k * 1000 + r.int(40);
    const tick: MetricSnapshot[] = [];
    for (const vm of vms) {
      if (vm.off > 0) {
        vm.off--;
        if (!vm.off) vm.metrics = fresh(); // booted again: counters start over
        continue;
      }
      if (r.chance(0.001)) {
        // shut off for a while: the service keeps an empty snapshot, so the next rates start over
        vm.off = 30 + r.int(200);
        vm.prev = { ...vm.prev!, metrics: {}, ts };
        continue;
      }
      for (const m of COUNTER_METRICS) vm.metrics[m] = vm.metrics[m]! + BigInt(r.chance(0.3) ? 0 : r.int(m === 'cputime' ? 2e9 : 1e6));
      for (const m of GAUGE_METRICS) vm.metrics[m] = BigInt(500_000 + r.int(500_000));
      const metrics: Partial<Record<MetricName, bigint>> = {};
      for (const [m, v] of Object.entries(vm.metrics) as [MetricName, bigint][]) {
        if (!vm.absent.has(m) && !(m === 'memusable' && k % 600 < 30)) metrics[m] = v; // memusable drops out now and then
      }
      const cur = { ts, metrics, cpus: vm.cpus, memoryMax: vm.memoryMax };
      const s: MetricSnapshot = {
        vmId: vm.id, hostId: 1, hostName: 'h', vmName: `vm${vm.id}`, uuid: `u${vm.id}`, state: r.chance(0.01) ? 'paused' : 'running',
        ...cur, nics: [], disks: [], ...derive(vm.prev, cur), stale: false, ageMs: 0,
      };
      if (r.chance(0.002)) s.memPct = Number.NaN; // a division upstream gone wrong
      vm.prev = s;
      if (r.chance(0.01)) continue; // sampled, published, never stored (an outage dropped it)
      tick.push(s);
    }
    ticks.push(tick);
  }
  return ticks;
}

/** Counts statements sent through any `pg` client whose text mentions `needle`. */
export function countStatements(needle: string) {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const counter = {
    n: 0,
    restore: () => {
      proto.query = original;
    },
  };
  proto.query = function (this: unknown, ...args: unknown[]) {
    const a = args[0] as string | { text?: string } | undefined;
    const text = typeof a === 'string' ? a : a?.text;
    if (text?.includes(needle)) counter.n++;
    return original.apply(this, args);
  };
  return counter;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
