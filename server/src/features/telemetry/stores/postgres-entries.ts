// Rollup entries: one bucket (a minute or an hour) of one VM, with min/avg/max of the rollup
// fields and the last value of the rollup counters. A raw block carries one (the summary of its
// samples); a minute-tier row holds the minutes of an hour, an hour-tier row the hours of a day.
//
// Weights reproduce what the row-per-bucket layout computed: a summary of raw samples weighs its
// average by the samples that had a value; once an entry is a stored rollup bucket ("promoted"),
// its average weighs as many as the bucket's samples, as `sum(avg * samples) / sum(samples)` did.
import { ROLLUP_LAST, ROLLUP_STATS } from './postgres-columns.js';
import { ByteReader, ByteWriter, readFloatColumn, readIntColumn, writeFloatColumn, writeIntColumn } from './postgres-codec.js';

export interface Stat {
  avg: number;
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

/** Summarises samples into one entry as they arrive. */
export class EntryBuilder {
  n = 0;
  private readonly sum: Float64Array;
  private readonly cnt: Uint32Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly last: (bigint | number | null)[];

  constructor(
    readonly ts: number,
    stats = ROLLUP_STATS.length,
    last = ROLLUP_LAST.length,
  ) {
    this.sum = new Float64Array(stats);
    this.cnt = new Uint32Array(stats);
    this.min = new Float64Array(stats).fill(Infinity);
    this.max = new Float64Array(stats).fill(-Infinity);
    this.last = new Array<null>(last).fill(null);
  }

  add(stats: readonly (number | null)[], last: readonly (bigint | number | null)[]) {
    this.n++;
    stats.forEach((v, i) => {
      if (v === null) return;
      this.sum[i]! += v;
      this.cnt[i]!++;
      if (v < this.min[i]!) this.min[i] = v;
      if (v > this.max[i]!) this.max[i] = v;
    });
    last.forEach((v, i) => {
      if (v !== null) this.last[i] = v;
    });
  }

  finish(): Entry {
    const stats = Array.from(this.sum, (_, i) => {
      const w = this.cnt[i]!;
      return w ? { avg: this.sum[i]! / w, w, min: this.min[i]!, max: this.max[i]! } : null;
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
    const w = some.reduce((a, s) => a + s.w, 0);
    return {
      avg: some.reduce((a, s) => a + s.avg * s.w, 0) / w,
      w,
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
export const promote = (e: Entry): Entry => ({ ...e, stats: e.stats.map((s) => (s ? { ...s, w: e.n } : null)) });

export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const w = new ByteWriter();
  w.varint(entries.length);
  const col = (write: (c: ByteWriter) => void) => {
    const c = new ByteWriter();
    write(c);
    w.section(c);
  };
  col((c) => writeIntColumn(c, entries.map((e) => e.ts), 2));
  col((c) => writeIntColumn(c, entries.map((e) => e.n), 1));
  ROLLUP_STATS.forEach((_, i) =>
    col((c) => {
      const s = entries.map((e) => e.stats[i] ?? null);
      writeFloatColumn(c, s.map((x) => x?.avg ?? null));
      writeIntColumn(c, s.map((x) => x?.w ?? null), 1);
      writeFloatColumn(c, s.map((x) => x?.min ?? null));
      writeFloatColumn(c, s.map((x) => x?.max ?? null));
    }),
  );
  ROLLUP_LAST.forEach((_, i) => col((c) => writeIntColumn(c, entries.map((e) => e.last[i] ?? null), 2)));
  return w.finish();
}

/**
 * Entries back. `want` (indexes into ROLLUP_STATS / ROLLUP_LAST) skips the columns not asked
 * for: their stats and last values read as null.
 */
export function decodeEntries(bytes: Uint8Array, want?: { stats: ReadonlySet<number>; last: ReadonlySet<number> }): Entry[] {
  const r = new ByteReader(bytes);
  const n = r.count();
  const ts = readIntColumn(r.section(), n, 2);
  const counts = readIntColumn(r.section(), n, 1);
  const entries: Entry[] = ts.map((t, k) => ({
    ts: Number(t),
    n: Number(counts[k]),
    stats: ROLLUP_STATS.map(() => null),
    last: ROLLUP_LAST.map(() => null),
  }));
  ROLLUP_STATS.forEach((_, i) => {
    if (want && !want.stats.has(i)) return r.skipSection();
    const c = r.section();
    const avg = readFloatColumn(c, n);
    const wt = readIntColumn(c, n, 1);
    const min = readFloatColumn(c, n);
    const max = readFloatColumn(c, n);
    avg.forEach((a, k) => {
      if (a !== null) entries[k]!.stats[i] = { avg: a, w: Number(wt[k]), min: min[k]!, max: max[k]! };
    });
  });
  ROLLUP_LAST.forEach((_, i) => {
    if (want && !want.last.has(i)) return r.skipSection();
    readIntColumn(r.section(), n, 2).forEach((v, k) => (entries[k]!.last[i] = v));
  });
  return entries;
}
