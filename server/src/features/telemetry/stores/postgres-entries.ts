// Rollup entries: one bucket (a minute or an hour) of one VM, with min/avg/max of the rollup
// fields and the last value of the rollup counters. A raw block carries one (the summary of its
// samples); a minute-tier row holds the minutes of an hour, an hour-tier row the hours of a day.
//
// Weights reproduce what the row-per-sample layout computed: a summary of raw samples weighs its
// average by the samples that had a value; once an entry is a stored rollup bucket ("promoted"),
// its average weighs as many as the bucket's samples, as `sum(avg * samples) / sum(samples)` did.
//
// An average is kept as a sum (avg = sum / w): the values are the collector's rounded rates and
// percentages, so their sums are exact short decimals that pack into a few bytes, where an average
// would take eight. Sums are added exactly (in thousandths) while they can be, in floating point
// otherwise; either way within a few ulps of the row layout's float8 arithmetic.
import { ROLLUP_LAST, ROLLUP_STATS } from './postgres-columns.js';
import { ByteReader, ByteWriter, readFloatsF64, readIntColumn, readNumbersF64, writeFloatColumn, writeIntColumn } from './postgres-codec.js';

interface Stat {
  /** the weighted sum: avg = sum / w */
  sum: number;
  w: number;
  min: number;
  max: number;
}

export interface Entry {
  /** bucket start, ms */
  ts: number;
  /** samples behind the bucket */
  n: number;
  /** in ROLLUP_STATS order (or the fields a query summarises); null = no sample had a value */
  stats: (Stat | null)[];
  /** in ROLLUP_LAST order (or a query's counters): the counter's last value in the bucket */
  last: (bigint | number | null)[];
}

/** Adds values exactly in thousandths while every one is a short decimal, in floating point after. */
class ExactSum {
  private thousandths = 0;
  private float = 0;
  private exact = true;
  add(v: number) {
    this.float += v;
    if (!this.exact) return;
    const t = Math.round(v * 1000);
    if (t / 1000 === v && Number.isSafeInteger(this.thousandths + t)) this.thousandths += t;
    else this.exact = false;
  }
  get value() {
    return this.exact ? this.thousandths / 1000 : this.float;
  }
}

/** Summarises samples into one entry as they arrive. */
export class EntryBuilder {
  n = 0;
  private readonly sum: ExactSum[];
  private readonly cnt: Uint32Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly last: (bigint | number | null)[];

  constructor(
    readonly ts: number,
    stats = ROLLUP_STATS.length,
    last = ROLLUP_LAST.length,
  ) {
    this.sum = Array.from({ length: stats }, () => new ExactSum());
    this.cnt = new Uint32Array(stats);
    this.min = new Float64Array(stats).fill(Infinity);
    this.max = new Float64Array(stats).fill(-Infinity);
    this.last = new Array<null>(last).fill(null);
  }

  add(stats: readonly (number | null)[], last: readonly (bigint | number | null)[]) {
    this.n++;
    for (let i = 0; i < stats.length; i++) {
      const v = stats[i]!;
      if (v === null) continue;
      this.sum[i]!.add(v);
      this.cnt[i]!++;
      if (v < this.min[i]!) this.min[i] = v;
      if (v > this.max[i]!) this.max[i] = v;
    }
    for (let i = 0; i < last.length; i++) if (last[i] !== null) this.last[i] = last[i]!;
  }

  finish(): Entry {
    const stats = this.sum.map((sum, i) => {
      const w = this.cnt[i]!;
      return w ? { sum: sum.value, w, min: this.min[i]!, max: this.max[i]! } : null;
    });
    return { ts: this.ts, n: this.n, stats, last: [...this.last] };
  }
}

/** Entries of one bucket, in time order, as one. */
export function mergeEntries(ts: number, parts: readonly Entry[]): Entry {
  const first = parts[0]!;
  const stats = first.stats.map((_, i) => {
    const some = parts.map((p) => p.stats[i]).filter((s): s is Stat => !!s);
    if (some.length <= 1) return some[0] ? { ...some[0] } : null;
    const sum = new ExactSum();
    for (const s of some) sum.add(s.sum);
    return {
      sum: sum.value,
      w: some.reduce((a, s) => a + s.w, 0),
      min: Math.min(...some.map((s) => s.min)),
      max: Math.max(...some.map((s) => s.max)),
    };
  });
  const last = first.last.map((_, i) => {
    for (let k = parts.length - 1; k >= 0; k--) if (parts[k]!.last[i] != null) return parts[k]!.last[i]!;
    return null;
  });
  return { ts, n: parts.reduce((a, p) => a + p.n, 0), stats, last };
}

/** A bucket as a stored rollup: its average now stands for all of its samples. */
export const promote = (e: Entry): Entry => ({
  ...e,
  stats: e.stats.map((s) => (s ? { ...s, sum: s.w === e.n ? s.sum : (s.sum / s.w) * e.n, w: e.n } : null)),
});

export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const w = new ByteWriter();
  w.varint(entries.length);
  w.section((c) => writeIntColumn(c, entries.map((e) => e.ts), 2));
  w.section((c) => writeIntColumn(c, entries.map((e) => e.n), 1));
  for (let i = 0; i < ROLLUP_STATS.length; i++) {
    w.section((c) => {
      const s = entries.map((e) => e.stats[i] ?? null);
      writeFloatColumn(c, s.map((x) => x?.sum ?? null));
      writeIntColumn(c, s.map((x) => x?.w ?? null), 1);
      writeFloatColumn(c, s.map((x) => x?.min ?? null));
      writeFloatColumn(c, s.map((x) => x?.max ?? null));
    });
  }
  for (let i = 0; i < ROLLUP_LAST.length; i++) w.section((c) => writeIntColumn(c, entries.map((e) => e.last[i] ?? null), 2));
  return w.finish();
}

/** A row's entries column by column (NaN = no value), for reads that only add them up. */
export interface EntryColumns {
  length: number;
  ts: Float64Array;
  n: Float64Array;
  /** by ROLLUP_STATS index; undefined when not asked for */
  stats: ({ sum: Float64Array; w: Float64Array; min: Float64Array; max: Float64Array } | undefined)[];
  /** by ROLLUP_LAST index; undefined when not asked for */
  last: ((bigint | null)[] | undefined)[];
}

export type EntryWant = { stats: ReadonlySet<number>; last: ReadonlySet<number> };

/** `want` (indexes into ROLLUP_STATS / ROLLUP_LAST) skips the columns not asked for. */
export function decodeEntryColumns(bytes: Uint8Array, want?: EntryWant): EntryColumns {
  const r = new ByteReader(bytes);
  const length = r.count();
  const ts = readNumbersF64(r.section(), length, 2);
  const n = readNumbersF64(r.section(), length, 1);
  const stats = ROLLUP_STATS.map((_, i) => {
    if (want && !want.stats.has(i)) return void r.skipSection();
    const c = r.section();
    return { sum: readFloatsF64(c, length), w: readNumbersF64(c, length, 1), min: readFloatsF64(c, length), max: readFloatsF64(c, length) };
  });
  const last = ROLLUP_LAST.map((_, i) => (want && !want.last.has(i) ? void r.skipSection() : readIntColumn(r.section(), length, 2)));
  return { length, ts, n, stats, last };
}

/** Entry i of decoded columns (stats and counters not asked for read as null). */
export function entryAt(c: EntryColumns, i: number): Entry {
  return {
    ts: c.ts[i]!,
    n: c.n[i]!,
    stats: c.stats.map((s) => (s && !Number.isNaN(s.sum[i]) ? { sum: s.sum[i]!, w: s.w[i]!, min: s.min[i]!, max: s.max[i]! } : null)),
    last: c.last.map((l) => l?.[i] ?? null),
  };
}

/** Entries back; `want` as for decodeEntryColumns. */
export function decodeEntries(bytes: Uint8Array, want?: EntryWant): Entry[] {
  const c = decodeEntryColumns(bytes, want);
  return Array.from({ length: c.length }, (_, i) => entryAt(c, i));
}
