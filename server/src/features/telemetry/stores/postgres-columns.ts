// What the history tables hold (prisma/schema.prisma: VmSampleBlock, VmMinuteBlock, VmHourBlock),
// by field. Raw blocks keep every seed metric exactly; rates and percentages are derived from
// consecutive counters when read (postgres-block.ts). The rollups keep min/avg/max only of the
// fields the dashboard charts and seed 002's /history names, and the last value of seed 002's
// byte counters: every other field is answered from raw blocks, within raw retention.
import { DEFAULT_HISTORY_FIELDS, DERIVED_PCT_FIELDS, RATE_FIELDS, type HistoryField } from '../../../domain/history.js';
import { COUNTER_METRICS, GAUGE_METRICS, METRIC_NAMES, type MetricName } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { cpuPercentOf, memPercent, rateOf } from '../collector/rates.js';

/** One row per VM per minute (or part of one) of samples, with the minute's rollup entry. */
export const RAW_TABLE = '"VmSampleBlock"';
/** One row per VM per hour of 1-minute rollup entries, with the hour's entry. */
export const MINUTE_TABLE = '"VmMinuteBlock"';
/** One row per VM per day of 1-hour rollup entries. */
export const HOUR_TABLE = '"VmHourBlock"';


/** Values the collector derives per tick, in the order blocks store their exceptions. */
export const DERIVED_FIELDS: readonly HistoryField[] = [...RATE_FIELDS, ...DERIVED_PCT_FIELDS];

/** Rollup fields with min/avg/max: what the dashboard draws, and seed 002's memory_used_mb. */
export const ROLLUP_STATS: readonly HistoryField[] = [...DEFAULT_HISTORY_FIELDS, 'memrss'];
/** Rollup counters with their last value per bucket: seed 002's network and disk totals. */
export const ROLLUP_LAST: readonly MetricName[] = ['net_rxbytes', 'net_txbytes', 'disk_rd_bytes', 'disk_wr_bytes'];

export const inRollups = (f: HistoryField) => ROLLUP_STATS.includes(f) || (ROLLUP_LAST as readonly string[]).includes(f);
export const isGauge = (m: MetricName) => (GAUGE_METRICS as readonly string[]).includes(m);

/** The metrics a field is computed from: the field itself, or the counters behind a rate or %. */
export function metricsFor(f: HistoryField): MetricName[] {
  if ((METRIC_NAMES as readonly string[]).includes(f)) return [f as MetricName];
  if (f.endsWith('_rate')) return [f.slice(0, -'_rate'.length) as MetricName];
  if (f === 'cpu_pct') return ['cputime'];
  if (f === 'cpu_user_pct') return ['timeusr'];
  if (f === 'cpu_system_pct') return ['timesys'];
  return ['memavailable', 'memusable', 'memrss', 'memactual']; // mem_pct
}

// NaN or ±Infinity from a division upstream is "no value", not a number to chart.
const finite = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

type Derived = Pick<MetricSnapshot, 'rates' | 'cpuPct' | 'memPct'>;
/** How each of DERIVED_FIELDS reads from a snapshot (or from what `derive` returns). */
const DERIVED_READERS: readonly ((d: Derived) => number | null)[] = [
  ...COUNTER_METRICS.map((m) => (d: Derived) => finite(d.rates[m])),
  (d) => finite(d.cpuPct.total),
  (d) => finite(d.cpuPct.user),
  (d) => finite(d.cpuPct.system),
  (d) => finite(d.memPct),
];

type Sample = Pick<MetricSnapshot, 'ts' | 'metrics' | 'cpus' | 'memoryMax'>;
const C = COUNTER_METRICS.length;
const counter = (m: (typeof COUNTER_METRICS)[number]) => COUNTER_METRICS.indexOf(m);
/**
 * The DERIVED_FIELDS after the counters' rates, each from those rates (`rate(k)`: COUNTER_METRICS[k]'s)
 * and the current sample, exactly as `derive` computes them (the same functions).
 */
const AFTER_RATES: readonly ((rate: (k: number) => number | undefined, cur: Sample) => number | null)[] = [
  (rate, cur) => finite(cpuPercentOf(rate(counter('cputime')), cur.cpus)),
  (rate, cur) => finite(cpuPercentOf(rate(counter('timeusr')), cur.cpus)),
  (rate, cur) => finite(cpuPercentOf(rate(counter('timesys')), cur.cpus)),
  (_rate, cur) => finite(memPercent(cur)),
];

/**
 * Each of DERIVED_FIELDS computed from two samples as `derive` computes it, one field at a time: a
 * read that wants three fields pays for three.
 */
export const DERIVED_FROM_SAMPLES: readonly ((prev: Sample | undefined, cur: Sample) => number | null)[] = [
  ...COUNTER_METRICS.map((m) => (prev: Sample | undefined, cur: Sample) => finite(rateOf(prev, cur, m))),
  ...AFTER_RATES.map((f) => (prev: Sample | undefined, cur: Sample) => f((k) => rateOf(prev, cur, COUNTER_METRICS[k]!), cur)),
];

const rateScratch = new Array<number | undefined>(C);
const scratchRate = (k: number) => rateScratch[k];

/**
 * Whether `derive(prev, cur)` gives back exactly `want` (a snapshot's derived values, in
 * DERIVED_FIELDS order): the same fields in one pass, each rate computed once, stopping at the first
 * difference. Called for every stored sample.
 */
export function reproduces(prev: Sample | undefined, cur: Sample, want: readonly (number | null)[]): boolean {
  for (let k = 0; k < C; k++) {
    const r = rateOf(prev, cur, COUNTER_METRICS[k]!);
    if (finite(r) !== want[k]) return false;
    rateScratch[k] = r;
  }
  for (let j = 0; j < AFTER_RATES.length; j++) if (AFTER_RATES[j]!(scratchRate, cur) !== want[C + j]) return false;
  return true;
}

/** A snapshot's derived values, in DERIVED_FIELDS order. */
export const derivedOf = (d: Derived): (number | null)[] => DERIVED_READERS.map((read) => read(d));

/** One of a snapshot's derived values: DERIVED_FIELDS[index]'s. */
export const derivedValue = (d: Derived, index: number): number | null => DERIVED_READERS[index]!(d);

/** The field's index in DERIVED_FIELDS, or -1 for a seed metric. */
export const derivedIndex = (f: HistoryField) => DERIVED_FIELDS.indexOf(f);
