// Per-tick derived values: per-second rates, seed 001's angle feature, CPU % and memory %. Pure.
import { COUNTER_METRICS, type MetricName } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';

type Sample = Pick<MetricSnapshot, 'ts' | 'metrics' | 'cpus' | 'memoryMax'>;
export type Derived = Pick<MetricSnapshot, 'rates' | 'angles' | 'cpuPct' | 'memPct'>;

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Rates need two samples of one series. A counter that went backwards (the VM restarted, or a
 * device was removed) starts a new series: no rate this tick rather than a negative one.
 */
export function derive(prev: Sample | undefined, cur: Sample): Derived {
  const rates: Derived['rates'] = {};
  const angles: Derived['angles'] = {};
  const dtMs = prev ? cur.ts - prev.ts : 0;
  if (prev && dtMs > 0) {
    for (const m of COUNTER_METRICS) {
      const a = prev.metrics[m];
      const b = cur.metrics[m];
      if (a === undefined || b === undefined || b < a) continue;
      // BigInt delta first: the totals themselves may be past 2^53, their difference is not.
      const rate = (Number(b - a) * 1000) / dtMs;
      rates[m] = round(rate);
      angles[m] = round((Math.atan(rate) * 180) / Math.PI, 4);
    }
  }
  return { rates, angles, cpuPct: cpuPercent(rates, cur.cpus), memPct: memPercent(cur) };
}

function cpuPercent(rates: Partial<Record<MetricName, number>>, cpus: number): Derived['cpuPct'] {
  // cputime rate is ns of CPU per second; 1e9 ns/s per vCPU is 100 %.
  const pct = (r: number | undefined) => (r === undefined || cpus <= 0 ? null : round((r / (1e9 * cpus)) * 100, 2));
  return { total: pct(rates.cputime), user: pct(rates.timeusr), system: pct(rates.timesys) };
}

/** Guest view when the balloon driver reports it (available − usable), else the host's RSS. */
function memPercent(s: Sample): number | null {
  const { memavailable, memusable, memrss, memactual } = s.metrics;
  if (memavailable !== undefined && memusable !== undefined && memavailable > 0n) {
    return round((Number(memavailable - memusable) / Number(memavailable)) * 100, 2);
  }
  const total = memactual ?? s.memoryMax;
  if (memrss !== undefined && total > 0n) return round(Math.min(100, (Number(memrss) / Number(total)) * 100), 2);
  return null;
}
