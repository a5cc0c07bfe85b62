// Per-tick derived values: per-second rates, seed 001's angle feature, CPU % and memory %. Pure.
import { COUNTER_METRICS, type CounterMetric } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { setMetric } from './metric-record.js';

type Sample = Pick<MetricSnapshot, 'ts' | 'metrics' | 'cpus' | 'memoryMax'>;
export type Derived = Pick<MetricSnapshot, 'rates' | 'angles' | 'cpuPct' | 'memPct'>;

const SCALE = [1, 10, 100, 1_000, 10_000];
const round = (v: number, digits = 3) => Math.round(v * SCALE[digits]!) / SCALE[digits]!;

/**
 * Every counter's key, unset (JSON and `?? null` see no value). A record cloned from it is laid out
 * for all 20 at once; one grown key by key reallocates its property store along the way: 1.36 →
 * 0.86 KB allocated per record, two records per VM per tick (side test, node 20).
 */
const EVERY_COUNTER: Partial<Record<CounterMetric, number>> = {};
for (const m of COUNTER_METRICS) setMetric(EVERY_COUNTER, m, undefined);

/**
 * Rates need two samples of one series. A counter that went backwards (the VM restarted, or a
 * device was removed) starts a new series: no rate this tick rather than a negative one.
 */
export function derive(prev: Sample | undefined, cur: Sample): Derived {
  const rates: Derived['rates'] = { ...EVERY_COUNTER };
  const angles: Derived['angles'] = { ...EVERY_COUNTER };
  for (const m of COUNTER_METRICS) {
    const rate = rawRate(prev, cur, m);
    if (rate === undefined) continue;
    setMetric(rates, m, round(rate));
    setMetric(angles, m, round((Math.atan(rate) * 180) / Math.PI, 4));
  }
  return {
    rates,
    angles,
    cpuPct: { total: cpuPercentOf(rates.cputime, cur.cpus), user: cpuPercentOf(rates.timeusr, cur.cpus), system: cpuPercentOf(rates.timesys, cur.cpus) },
    memPct: memPercent(cur),
  };
}

const TWO_53 = 2 ** 53;

function rawRate(prev: Sample | undefined, cur: Sample, m: CounterMetric): number | undefined {
  if (!prev) return undefined;
  const dtMs = cur.ts - prev.ts;
  const a = prev.metrics[m];
  const b = cur.metrics[m];
  if (!(dtMs > 0) || a === undefined || b === undefined) return undefined;
  // Exact either way: below 2^53 as doubles (no BigInt arithmetic; Number(x) < 2^53 only when x is);
  // beyond, the BigInt delta first (the totals may be past 2^53, their difference is not).
  const nb = Number(b);
  const na = Number(a);
  let delta: number;
  if (nb < TWO_53 && na < TWO_53) delta = nb - na;
  else delta = b < a ? -1 : Number(b - a);
  return delta < 0 ? undefined : (delta * 1000) / dtMs;
}

// One value of what derive() returns, for readers that need a few of them (stored history).

/** A counter's rate, as derive() reports it. */
export function rateOf(prev: Sample | undefined, cur: Sample, m: CounterMetric): number | undefined {
  const rate = rawRate(prev, cur, m);
  return rate === undefined ? undefined : round(rate);
}

/** A CPU-time rate (ns/s) as % of the VM's vCPUs: 1e9 ns/s per vCPU is 100 %. */
export function cpuPercentOf(rate: number | undefined, cpus: number): number | null {
  return rate === undefined || cpus <= 0 ? null : round((rate / (1e9 * cpus)) * 100, 2);
}

/** Guest view when the balloon driver reports it (available − usable), else the host's RSS. */
export function memPercent(s: Sample): number | null {
  const { memavailable, memusable, memrss, memactual } = s.metrics;
  if (memavailable !== undefined && memusable !== undefined && memavailable > 0n) {
    return round((Number(memavailable - memusable) / Number(memavailable)) * 100, 2);
  }
  const total = memactual ?? s.memoryMax;
  if (memrss !== undefined && total > 0n) return round(Math.min(100, (Number(memrss) / Number(total)) * 100), 2);
  return null;
}
