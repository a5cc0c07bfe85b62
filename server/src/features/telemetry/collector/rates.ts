// Per-tick derived values: per-second rates, seed 001's angle feature, CPU % and memory %. Pure
// functions of their samples (their rates share slabs of storage, see Rates).
import { COUNTER_METRICS, METRIC_INDEX, METRIC_NAMES, type CounterMetric } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { Float64Slabs } from '../../../lib/slabs.js';
import { metricNumber, readAsRecord, setMetric } from './metric-record.js';

type Sample = Pick<MetricSnapshot, 'ts' | 'metrics' | 'cpus' | 'memoryMax'>;
export type Derived = Pick<MetricSnapshot, 'rates' | 'angles' | 'cpuPct' | 'memPct'>;

const SCALE = [1, 10, 100, 1_000, 10_000];
const round = (v: number, digits = 3) => Math.round(v * SCALE[digits]!) / SCALE[digits]!;

const C = COUNTER_METRICS.length;
/** seed 001's feature: the arctangent of a rate (unrounded), in degrees */
const angleOf = (rate: number) => round((Math.atan(rate) * 180) / Math.PI, 4);

const CPUTIME = COUNTER_METRICS.indexOf('cputime');
const TIMEUSR = COUNTER_METRICS.indexOf('timeusr');
const TIMESYS = COUNTER_METRICS.indexOf('timesys');
type CounterRecord = Readonly<Partial<Record<CounterMetric, number>>>;

let nextId = 1;

/** A VM's unrounded rates of one tick: a row of C doubles (NaN: no rate) in slabs shared by 64 VMs. */
const slabs = new Float64Slabs(C);

/**
 * A VM's rates of one tick, read by counter name like a plain record (`r.cputime`, `r[m]`;
 * undefined: no rate; rounded as read). The unrounded values sit in a slab shared with other
 * VMs' (NaN: none), so a VM's rates are one small object instead of a record of 20 boxed doubles,
 * and its angles another, computed when read: 1.7 KB less garbage per VM per tick (bench/README.md,
 * "fewer objects per snapshot"). JSON (replicas over Redis) gives the plain record.
 */
class Rates {
  readonly #values: Float64Array;
  readonly #at: number;
  // What they were derived from and into (derivedFrom): the previous sample by its rates' id and
  // time (holding its metrics would keep every VM's previous tick alive for another), the current
  // sample, and the other values made.
  readonly #id = nextId++;
  readonly #fromId: number;
  readonly #fromTs: number;
  readonly #cur: Sample;
  readonly #cpuPct: Derived['cpuPct'];
  readonly #memPct: number | null;

  constructor(values: Float64Array, at: number, from: Sample | undefined, cur: Sample, cpuPct: Derived['cpuPct'], memPct: number | null) {
    this.#values = values;
    this.#at = at;
    this.#fromId = from && 'rates' in from ? Rates.idOf(from.rates) : Number.NaN;
    this.#fromTs = from ? from.ts : Number.NaN;
    this.#cur = cur;
    this.#cpuPct = cpuPct;
    this.#memPct = memPct;
  }

  static {
    readAsRecord(Rates.prototype, COUNTER_METRICS, (r, k) => r.rate(k), setMetric);
  }

  /** Counter k's rate (COUNTER_METRICS[k]'s), rounded. */
  rate(k: number): number | undefined {
    return rateIn(this.#values, this.#at + k);
  }

  /** The angle of counter k's rate, from the unrounded rate. */
  angle(k: number): number | undefined {
    const v = this.#values[this.#at + k]!;
    return Number.isNaN(v) ? undefined : angleOf(v);
  }

  static idOf(rates: unknown): number {
    return rates instanceof Rates ? rates.#id : Number.NaN;
  }

  static derivedFrom(s: Sample & Derived, prev: Sample & { derivation?: number }): boolean {
    const r = s.rates;
    // NaN (no id) is never equal
    if (!(r instanceof Rates) || r.#fromId !== prev.derivation || r.#fromTs !== prev.ts) return false;
    const cur = r.#cur;
    return cur.metrics === s.metrics && cur.ts === s.ts && cur.cpus === s.cpus && cur.memoryMax === s.memoryMax && r.#cpuPct === s.cpuPct && Object.is(r.#memPct, s.memPct);
  }
}

/** The angles of a VM's rates (seed 001's features), each computed when read. */
class Angles {
  readonly #rates: Rates;
  constructor(rates: Rates) {
    this.#rates = rates;
  }

  static {
    readAsRecord(Angles.prototype, COUNTER_METRICS, (a, k) => a.#rates.angle(k), setMetric);
  }
}

/** The rounded rate at `i` of a slab (NaN: none). */
function rateIn(values: Float64Array, i: number): number | undefined {
  const v = values[i]!;
  return Number.isNaN(v) ? undefined : round(v);
}

/** Which derive() call made a snapshot's values (NaN: none of this process's, a replica's over JSON). */
export const derivationOf = (s: Pick<Derived, 'rates'>): number => Rates.idOf(s.rates);

/**
 * Whether a snapshot's derived values are, untouched, what `derive(prev, cur)` made of `prev` (the
 * snapshot whose derivationOf() is `prev.derivation`, at `prev.ts`) and of the snapshot's own
 * counters, time, vCPUs and maximum memory as `cur`: then a store that holds `prev` knows without
 * recomputing them that they can be rederived.
 */
export const derivedFrom = (s: Sample & Derived, prev: Sample & { derivation?: number }): boolean => Rates.derivedFrom(s, prev);

/**
 * Rates need two samples of one series. A counter that went backwards (the VM restarted, or a
 * device was removed) starts a new series: no rate this tick rather than a negative one.
 */
export function derive(prev: Sample | undefined, cur: Sample): Derived {
  const at = slabs.row();
  const values = slabs.slab;
  for (let k = 0; k < C; k++) values[at + k] = rawRate(prev, cur, COUNTER_AT[k]!);
  const cpuPct = { total: cpuPercentOf(rateIn(values, at + CPUTIME), cur.cpus), user: cpuPercentOf(rateIn(values, at + TIMEUSR), cur.cpus), system: cpuPercentOf(rateIn(values, at + TIMESYS), cur.cpus) };
  const memPct = memPercent(cur);
  const rates = new Rates(values, at, prev, cur, cpuPct, memPct);
  // Each class has a getter per counter name (their static blocks): read as the records they stand for.
  return { rates: rates as CounterRecord, angles: new Angles(rates) as CounterRecord, cpuPct, memPct };
}

/** Each counter's index in METRIC_NAMES (COUNTER_AT[k] for COUNTER_METRICS[k]). */
const COUNTER_AT = COUNTER_METRICS.map((m) => METRIC_INDEX[m]);
const { memavailable: MEMAVAILABLE, memusable: MEMUSABLE, memrss: MEMRSS, memactual: MEMACTUAL } = METRIC_INDEX;

/** Metric `c`'s (METRIC_NAMES index) per-second rate between two samples; NaN: none. */
function rawRate(prev: Sample | undefined, cur: Sample, c: number): number {
  if (!prev) return Number.NaN;
  const dtMs = cur.ts - prev.ts;
  if (!(dtMs > 0)) return Number.NaN;
  // Exact either way: as doubles when both are present and below 2^53 (no BigInt conversion or
  // arithmetic); otherwise the BigInt delta (the totals may be past 2^53, their difference is not).
  const na = metricNumber(prev.metrics, c);
  const nb = metricNumber(cur.metrics, c);
  let delta: number;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) delta = nb - na;
  else {
    const m = METRIC_NAMES[c]!;
    const a = prev.metrics[m];
    const b = cur.metrics[m];
    if (a === undefined || b === undefined) return Number.NaN;
    delta = b < a ? -1 : Number(b - a);
  }
  return delta < 0 ? Number.NaN : (delta * 1000) / dtMs;
}

// One value of what derive() returns, for readers that need a few of them (stored history).

/** A counter's rate, as derive() reports it. */
export function rateOf(prev: Sample | undefined, cur: Sample, m: CounterMetric): number | undefined {
  const rate = rawRate(prev, cur, METRIC_INDEX[m]);
  return Number.isNaN(rate) ? undefined : round(rate);
}

/** A CPU-time rate (ns/s) as % of the VM's vCPUs: 1e9 ns/s per vCPU is 100 %. */
export function cpuPercentOf(rate: number | undefined, cpus: number): number | null {
  return rate === undefined || cpus <= 0 ? null : round((rate / (1e9 * cpus)) * 100, 2);
}

/** Guest view when the balloon driver reports it (available − usable), else the host's RSS. */
export function memPercent(s: Sample): number | null {
  const m = s.metrics;
  // As doubles when every value there is exact as one (no BigInt made or subtracted): the same
  // results, since sums and differences of such doubles are exact too.
  const avail = metricNumber(m, MEMAVAILABLE);
  const usable = metricNumber(m, MEMUSABLE);
  const rss = metricNumber(m, MEMRSS);
  const actual = metricNumber(m, MEMACTUAL);
  const onlyDoubles =
    (!Number.isNaN(avail) || m.memavailable === undefined) &&
    (!Number.isNaN(usable) || m.memusable === undefined) &&
    (!Number.isNaN(rss) || m.memrss === undefined) &&
    (!Number.isNaN(actual) || m.memactual === undefined);
  if (onlyDoubles) {
    if (avail > 0 && !Number.isNaN(usable)) return round(((avail - usable) / avail) * 100, 2);
    const total = Number.isNaN(actual) ? Number(s.memoryMax) : actual;
    if (!Number.isNaN(rss) && total > 0) return round(Math.min(100, (rss / total) * 100), 2);
    return null;
  }
  const { memavailable, memusable, memrss, memactual } = m;
  if (memavailable !== undefined && memusable !== undefined && memavailable > 0n) {
    return round((Number(memavailable - memusable) / Number(memavailable)) * 100, 2);
  }
  const total = memactual ?? s.memoryMax;
  if (memrss !== undefined && total > 0n) return round(Math.min(100, (Number(memrss) / Number(total)) * 100), 2);
  return null;
}
