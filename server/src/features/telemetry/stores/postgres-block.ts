// A raw block: one VM's samples within one UTC minute, column by column (postgres-codec.ts).
// Counters are exact (BigInt). Rates and percentages are not stored: each sample records how the
// collector's values come back from the counters (`derive` against the previous sample, or
// against none), and only a sample whose values cannot be reproduced that way keeps them
// explicitly. So what is read back equals what was written, bit for bit.
//
// The first sample's rates need the sample before it, which may sit in the previous block (or in
// no stored block at all): a block then starts with that sample as context, read but not returned.
import { METRIC_INDEX, METRIC_NAMES, type MetricName } from '../../../domain/metrics.js';
import { metricNumber } from '../collector/metric-record.js';
import { derivationOf, derive, derivedFrom } from '../collector/rates.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import type { HistoryField } from '../../../domain/history.js';
import { ByteReader, ByteWriter, readFloatColumn, readIntColumn, readNumberColumn, writeFloatColumn, writeIntColumn, writeIntColumnStrided } from './postgres-codec.js';
import { DERIVED_FIELDS, DERIVED_FROM_SAMPLES, ROLLUP_LAST, ROLLUP_STATS, derivedIndex, derivedOf, derivedValue, isGauge, metricsFor, reproduces } from './postgres-columns.js';
import { MINUTE_MS, floorTo } from '../../../lib/time.js';
import { EntryBuilder, type Entry } from './postgres-entries.js';

const VERSION = 1;
const M = METRIC_NAMES.length;
/** how a metric value is held (0: absent): as a Number in `values`; as a BigInt: its 64 bits in the same slot, or in `outside` */
const AS_NUMBER = 1;
const AS_BIGINT = 2;

/** What `derive` needs of a sample. */
export type Sample = Pick<MetricSnapshot, 'ts' | 'metrics' | 'cpus' | 'memoryMax'>;
/** A sample a block holds, with which derive() call made its values (derivationOf), when known. */
type HeldSample = Sample & { derivation?: number };

/** How a sample's derived values come back. */
const DERIVED_FROM_PREVIOUS = 0;
const DERIVED_ALONE = 1;
const EXPLICIT = 2;

/** Where each rollup stat reads from: an index into the derived values, or a metric. */
/** each rollup stat from a derived value (`derived` ≥ 0) or from metric `at` (its METRIC_NAMES index) */
const STAT_SOURCES = ROLLUP_STATS.map((f) => ({ derived: derivedIndex(f), at: METRIC_INDEX[f as MetricName] }));

/** samples a block has room for at first: a minute at 1 Hz, and the context sample */
const ROWS = 64;
const MAX_U64 = 2n ** 64n - 1n;

/** A copy of a typed array with room for `length` values. */
function grown<T extends Float64Array | Uint8Array | Uint16Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  (b as { set(from: T): void }).set(a);
  return b;
}

/**
 * A block's samples, column by column, with room for `rows` samples: typed arrays, not JS arrays
 * grown sample by sample (those were most of what a scavenge had to copy and promote at 1,000 VMs:
 * bench/README.md, "Fewer objects per snapshot"). An encoded block hands them to a block of the
 * next minute (OpenBlock.release): every VM's block opens in the same tick, and 750 blocks' new
 * arrays (11 MiB of fresh pages) took that tick 13 ms, with GC after (bench/README.md, "Where the
 * event loop's longest delays come from").
 */
export interface Columns {
  rows: number;
  ts: Float64Array;
  cpus: Float64Array;
  /** per sample: stale (0/1), index into `states`, how its derived values come back */
  stale: Uint8Array;
  state: Uint16Array;
  mode: Uint8Array;
  // Metrics in a typed array: a minute of 1,000 VMs would otherwise hold 1.5 M BigInt objects.
  // As Numbers (exact below 2^53), so encoding takes the codec's Number path with no BigInt
  // arithmetic; values from 2^53 to 2^64 − 1 (cputime of a VM up for months; the test driver's,
  // which counts from 1970, always) as the 64 bits of their slot, through a BigUint64Array over the
  // same memory (a second array of every slot was 12.5 KiB more per VM, ~9 MiB at 750 running VMs).
  values: Float64Array;
  /** per slot, how its value is held (AS_NUMBER, AS_BIGINT; 0: absent) */
  present: Uint8Array;
}

const newColumns = (rows: number): Columns => ({
  rows,
  ts: new Float64Array(rows),
  cpus: new Float64Array(rows),
  stale: new Uint8Array(rows),
  state: new Uint16Array(rows),
  mode: new Uint8Array(rows),
  values: new Float64Array(rows * M),
  present: new Uint8Array(rows * M),
});

// Scratch rows for the summary (EntryBuilder.add copies what it keeps).
const statRow: (number | null)[] = new Array<number | null>(ROLLUP_STATS.length).fill(null);
const lastRow: (bigint | number | null)[] = new Array<bigint | number | null>(ROLLUP_LAST.length).fill(null);
/** each ROLLUP_LAST metric's METRIC_NAMES index */
const LAST_AT = ROLLUP_LAST.map((m) => METRIC_INDEX[m]);

export class OpenBlock {
  readonly minute: number;
  /** samples held, the context included */
  n = 0;
  private hasContext = false;
  /** the samples (doubled when full); undefined once released */
  private cols: Columns;
  private readonly memoryMax: bigint[] = new Array<bigint>(ROWS);
  private readonly states: string[] = [];
  private readonly explicit = new Map<number, (number | null)[]>();
  /** `cols.values`' memory read as unsigned 64-bit integers, made when first needed */
  private wide: BigUint64Array | undefined;
  /** values outside 0 … 2^64 − 1, exact (no counter is) */
  private readonly outside = new Map<number, bigint>();
  private readonly summary: EntryBuilder;
  /** the sample the next one derives from */
  last: HeldSample | undefined;

  constructor(
    readonly vmId: number,
    firstTs: number,
    /** the VM's previous sample, if the store saw one */
    readonly previous: HeldSample | undefined,
    /** a released block's columns, to fill instead of new ones */
    reuse?: Columns,
  ) {
    this.minute = floorTo(firstTs, MINUTE_MS);
    this.summary = new EntryBuilder(this.minute);
    if (reuse) reuse.present.fill(0); // the rest is written before it is read
    this.cols = reuse ?? newColumns(ROWS);
  }

  /**
   * Hands the block's columns over for a new block (its constructor's `reuse`) once the block is
   * encoded; the block must not be used after (any use throws).
   */
  release(): Columns {
    const c = this.cols;
    this.cols = undefined as unknown as Columns;
    this.wide = undefined;
    return c;
  }

  /** First sample's ts: the block's key. */
  get firstTs(): number {
    return this.cols.ts[this.hasContext ? 1 : 0]!;
  }
  get lastTs(): number {
    return this.cols.ts[this.n - 1]!;
  }
  get samples(): number {
    return this.n - (this.hasContext ? 1 : 0);
  }

  private push(s: Sample & { state?: string; stale?: boolean }, mode: number) {
    const i = this.n++;
    if (this.n > this.cols.rows) this.grow();
    const cols = this.cols;
    cols.ts[i] = s.ts;
    cols.cpus[i] = s.cpus;
    this.memoryMax[i] = s.memoryMax;
    cols.stale[i] = s.stale ? 1 : 0;
    let k = this.states.indexOf(s.state ?? '');
    if (k < 0) k = this.states.push(s.state ?? '') - 1;
    cols.state[i] = k;
    cols.mode[i] = mode;
    for (let c = 0; c < M; c++) {
      const at = i * M + c;
      const x = metricNumber(s.metrics, c);
      if (!Number.isNaN(x)) {
        cols.present[at] = AS_NUMBER;
        cols.values[at] = x;
      } else {
        const v = s.metrics[METRIC_NAMES[c]!];
        if (v === undefined) continue;
        cols.present[at] = AS_BIGINT;
        if (v >= 0n && v <= MAX_U64) {
          this.wideValues()[at] = v;
        } else this.outside.set(at, v);
      }
    }
  }

  private grow() {
    const c = this.cols;
    const rows = c.rows * 2;
    this.cols = {
      rows,
      ts: grown(c.ts, rows),
      cpus: grown(c.cpus, rows),
      stale: grown(c.stale, rows),
      state: grown(c.state, rows),
      mode: grown(c.mode, rows),
      // Same-type set() copies the bits as they are (ECMA-262, SetTypedArrayFromTypedArray), the wide slots' too.
      values: grown(c.values, rows * M),
      present: grown(c.present, rows * M),
    };
    this.wide = undefined;
  }

  private wideValues(): BigUint64Array {
    const { values } = this.cols;
    this.wide ??= new BigUint64Array(values.buffer, values.byteOffset, values.length);
    return this.wide;
  }

  append(s: MetricSnapshot) {
    const prev = this.last ?? this.previous;
    let mode = EXPLICIT;
    // The collector's snapshots were derived from the very sample this block holds before them (the
    // same metrics record, the same time): they are reproduced by construction, no check needed.
    // Anything else (a replica's snapshot over JSON, a gap, a test's) is checked value by value.
    let want: (number | null)[] | undefined;
    if (prev && derivedFrom(s, prev)) mode = DERIVED_FROM_PREVIOUS;
    else {
      want = derivedOf(s);
      if (prev && reproduces(prev, s, want)) mode = DERIVED_FROM_PREVIOUS;
      else if (reproduces(undefined, s, want)) mode = DERIVED_ALONE;
    }
    if (mode === DERIVED_FROM_PREVIOUS && !this.last) {
      this.push(prev!, DERIVED_ALONE);
      this.hasContext = true;
    }
    if (mode === EXPLICIT) this.explicit.set(this.n, want!);
    this.push(s, mode);
    this.last = { ts: s.ts, metrics: s.metrics, cpus: s.cpus, memoryMax: s.memoryMax, derivation: derivationOf(s) };
    for (let k = 0; k < STAT_SOURCES.length; k++) {
      const src = STAT_SOURCES[k]!;
      if (src.derived >= 0) statRow[k] = want ? (want[src.derived] ?? null) : derivedValue(s, src.derived);
      else {
        const x = metricNumber(s.metrics, src.at);
        const v = Number.isNaN(x) ? s.metrics[METRIC_NAMES[src.at]!] : x;
        statRow[k] = v === undefined ? null : Number(v);
      }
    }
    for (let k = 0; k < ROLLUP_LAST.length; k++) {
      // as the double where that is exact (the codec writes both alike): no BigInt read
      const x = metricNumber(s.metrics, LAST_AT[k]!);
      lastRow[k] = Number.isNaN(x) ? (s.metrics[ROLLUP_LAST[k]!] ?? null) : x;
    }
    this.summary.add(statRow, lastRow);
  }

  /** The block's samples summarised: its minute's rollup entry. */
  summarise(): Entry {
    return this.summary.finish();
  }

  /** Is every sample's value of metric c held as a Number? */
  private allNumbers(c: number): boolean {
    const { present } = this.cols;
    for (let i = 0, at = c; i < this.n; i++, at += M) if (present[at] !== AS_NUMBER) return false;
    return true;
  }

  /** A metric's column: Numbers below 2^53, BigInts past it (the codec writes both alike). */
  private metricColumn(c: number): (number | bigint | null)[] {
    const out = new Array<number | bigint | null>(this.n);
    const { present, values } = this.cols;
    for (let i = 0, at = c; i < this.n; i++, at += M) {
      const how = present[at];
      out[i] = how === AS_NUMBER ? values[at]! : how === AS_BIGINT ? (this.outside.get(at) ?? this.wideValues()[at]!) : null;
    }
    return out;
  }

  encode(): Uint8Array {
    const w = new ByteWriter();
    w.byte(VERSION);
    w.varint(this.n);
    w.byte(this.hasContext ? 1 : 0);
    w.varint(this.states.length);
    for (const s of this.states) {
      const b = new TextEncoder().encode(s);
      w.varint(b.length);
      w.bytes(b);
    }
    // The samples held, straight from the slabs where they are small Numbers (the usual case),
    // else as the codec's arrays: the same bytes either way.
    const n = this.n;
    const held = (a: Float64Array | Uint8Array | Uint16Array, order: 1 | 2) => (c: ByteWriter) => {
      if (!writeIntColumnStrided(c, a, 0, 1, n, order)) writeIntColumn(c, Array.from(a.subarray(0, n)), order);
    };
    const cols = this.cols;
    w.section(held(cols.ts, 2));
    w.section(held(cols.cpus, 1));
    w.section((c) => writeIntColumn(c, this.memoryMax.slice(0, n), 1));
    w.section(held(cols.stale, 1));
    w.section(held(cols.state, 1));
    w.section(held(cols.mode, 1));
    for (let k = 0; k < M; k++) {
      const order = isGauge(METRIC_NAMES[k]!) ? 1 : 2;
      w.section((c) => {
        if (!this.allNumbers(k) || !writeIntColumnStrided(c, cols.values, k, M, n, order)) writeIntColumn(c, this.metricColumn(k), order);
      });
    }
    w.section((c) => {
      const rows = [...this.explicit.values()];
      c.varint(rows.length);
      if (rows.length) for (let f = 0; f < DERIVED_FIELDS.length; f++) writeFloatColumn(c, rows.map((r) => r[f] ?? null));
    });
    return w.finish();
  }
}

/** A block's columns as read back; `metrics` holds only the metrics asked for. */
interface BlockColumns {
  n: number;
  hasContext: boolean;
  ts: number[];
  cpus: number[];
  memoryMax: bigint[];
  stale: boolean[];
  state: string[];
  mode: number[];
  metrics: Partial<Record<MetricName, (bigint | null)[]>>;
  /** sample index → derived values, for the samples stored explicitly */
  explicit: Map<number, (number | null)[]>;
}

function readColumns(bytes: Uint8Array, metrics: ReadonlySet<MetricName> | 'all'): BlockColumns {
  const r = new ByteReader(bytes);
  if (r.byte() !== VERSION) throw new RangeError('history block: unknown version');
  const n = r.count();
  const hasContext = r.byte() === 1;
  const states = Array.from({ length: r.count() }, () => {
    const len = r.count();
    const s = new TextDecoder().decode(bytes.subarray(r.pos, r.pos + len));
    r.pos += len;
    return s;
  });
  const ts = readNumberColumn(r.section(), n, 2) as number[];
  const cpus = readNumberColumn(r.section(), n, 1) as number[];
  const memoryMax = readIntColumn(r.section(), n, 1).map((x) => x ?? 0n);
  const stale = readNumberColumn(r.section(), n, 1).map((x) => x === 1);
  const state = readNumberColumn(r.section(), n, 1).map((x) => states[x!] ?? '');
  const mode = readNumberColumn(r.section(), n, 1) as number[];
  const out: BlockColumns['metrics'] = {};
  for (const m of METRIC_NAMES) {
    if (metrics === 'all' || metrics.has(m)) out[m] = readIntColumn(r.section(), n, isGauge(m) ? 1 : 2);
    else r.skipSection();
  }
  const explicit = new Map<number, (number | null)[]>();
  const e = r.section();
  const count = e.count();
  if (count) {
    const cols = DERIVED_FIELDS.map(() => readFloatColumn(e, count));
    let k = 0;
    mode.forEach((md, i) => {
      if (md !== EXPLICIT) return;
      explicit.set(i, cols.map((c) => c[k]!));
      k++;
    });
  }
  return { n, hasContext, ts, cpus, memoryMax, stale, state, mode, metrics: out, explicit };
}

/**
 * Walks the samples (not the context), handing each its metrics, the sample its derived values
 * come from (the previous one, or none: DERIVED_FROM_SAMPLES computes them), or the values kept
 * explicitly.
 */
function eachSample(
  c: BlockColumns,
  visit: (i: number, cur: Sample, prev: Sample | undefined, explicit: readonly (number | null)[] | null) => void,
) {
  let prev: Sample | undefined;
  const cols = Object.entries(c.metrics) as [MetricName, (bigint | null)[]][];
  for (let i = 0; i < c.n; i++) {
    const metrics: Partial<Record<MetricName, bigint>> = {};
    for (let k = 0; k < cols.length; k++) {
      const v = cols[k]![1][i];
      if (v !== null && v !== undefined) metrics[cols[k]![0]] = v;
    }
    const cur: Sample = { ts: c.ts[i]!, metrics, cpus: c.cpus[i]!, memoryMax: c.memoryMax[i]! };
    if (i > 0 || !c.hasContext) {
      const mode = c.mode[i];
      visit(i, cur, mode === DERIVED_FROM_PREVIOUS ? prev : undefined, mode === EXPLICIT ? c.explicit.get(i)! : null);
    }
    prev = cur;
  }
}

/** Times and values of some fields (null = no value), samples in block order. */
export function readBlockFields(bytes: Uint8Array, fields: readonly HistoryField[]): { ts: number[]; values: (number | null)[][] } {
  // Rates need the counters; which ones is known from the fields, so read only those.
  const c = readColumns(bytes, new Set(fields.flatMap(metricsFor)));
  const readers = fields.map((f) => {
    const k = derivedIndex(f);
    if (k < 0) return (cur: Sample) => (cur.metrics[f as MetricName] === undefined ? null : Number(cur.metrics[f as MetricName]));
    const compute = DERIVED_FROM_SAMPLES[k]!;
    return (cur: Sample, prev: Sample | undefined, explicit: readonly (number | null)[] | null) => (explicit ? (explicit[k] ?? null) : compute(prev, cur));
  });
  const ts: number[] = [];
  const values: (number | null)[][] = fields.map(() => []);
  eachSample(c, (i, cur, prev, explicit) => {
    ts.push(c.ts[i]!);
    for (let k = 0; k < readers.length; k++) values[k]!.push(readers[k]!(cur, prev, explicit));
  });
  return { ts, values };
}

/**
 * Everything a block holds, one record per sample: for tests, tools and the legacy conversion check.
 * @internal exported for tests only: what decodeBlock gives the tests
 */
export interface StoredSample {
  ts: number;
  state: string;
  cpus: number;
  stale: boolean;
  memoryMax: bigint;
  metrics: Partial<Record<MetricName, bigint>>;
  /** in DERIVED_FIELDS order */
  derived: (number | null)[];
}

/** @internal exported for tests only: the codec's decoder: production reads blocks in SQL; tests decode what was stored */
export function decodeBlock(bytes: Uint8Array): StoredSample[] {
  const c = readColumns(bytes, 'all');
  const out: StoredSample[] = [];
  eachSample(c, (i, cur, prev, explicit) =>
    out.push({
      ts: c.ts[i]!, state: c.state[i]!, cpus: c.cpus[i]!, stale: c.stale[i]!, memoryMax: c.memoryMax[i]!, metrics: cur.metrics,
      derived: explicit ? [...explicit] : derivedOf(derive(prev, cur)),
    }),
  );
  return out;
}
