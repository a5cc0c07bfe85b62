// The byte codecs of the history blocks: unsigned LEB128 varints, zigzag for signed values, and
// two column codecs. A column is a series of nullable values of one field; it is written as a
// null map, then the values' differences (1st or 2nd order), divided by their greatest common
// divisor, zigzagged, with runs of zeros collapsed. Integers are BigInt throughout, so counters
// past 2^53 (and resets from such values to 0) stay exact. Floats whose values are all short
// decimals (a rounded rate or percentage) are written as scaled integers, others as raw float64.

const TWO_53 = 2 ** 53;

export class ByteWriter {
  private buf = new Uint8Array(512);
  length = 0;

  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number) {
    this.room(1);
    this.buf[this.length++] = b;
  }

  /** Unsigned varint of a non-negative integer (a safe Number or any BigInt). */
  varint(v: number | bigint) {
    this.room(10);
    if (typeof v === 'number' && v < TWO_53) {
      while (v >= 2 ** 31) {
        this.buf[this.length++] = (v % 128) | 128;
        v = Math.floor(v / 128);
      }
      // the same bytes in 32-bit integer arithmetic, which is most values (lengths, zigzagged steps)
      while (v >= 128) {
        this.buf[this.length++] = (v & 127) | 128;
        v >>>= 7;
      }
      this.buf[this.length++] = v;
      return;
    }
    let b = BigInt(v);
    if (b < 0n) throw new RangeError('varint of a negative value');
    while (b >= 128n) {
      this.room(1);
      this.buf[this.length++] = Number(b & 127n) | 128;
      b >>= 7n;
    }
    this.room(1);
    this.buf[this.length++] = Number(b);
  }

  float64(v: number) {
    this.room(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.length, 8).setFloat64(0, v, true);
    this.length += 8;
  }

  bytes(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** A length-prefixed section, so a reader can skip what it does not need. Sections do not nest. */
  section(write: (w: ByteWriter) => void) {
    if (scratchInUse) throw new Error('history block: nested section');
    scratchInUse = true;
    scratch.length = 0;
    try {
      write(scratch);
    } finally {
      scratchInUse = false;
    }
    this.varint(scratch.length);
    this.bytes(scratch.buf.subarray(0, scratch.length));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

// One buffer for every section being written (a section is copied out as soon as it is done).
const scratch = new ByteWriter();
let scratchInUse = false;

export class ByteReader {
  pos: number;
  private view: DataView | undefined;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  byte(): number {
    if (this.pos >= this.end) throw new RangeError('history block truncated');
    return this.buf[this.pos++]!;
  }

  /** A varint as a Number when it is safe, else as a BigInt. */
  varint(): number | bigint {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.byte();
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
    }
    // 49 bits so far and more to come: finish in BigInt.
    let big = BigInt(v);
    let shift = 49n;
    for (;;) {
      const b = this.byte();
      big |= BigInt(b & 127) << shift;
      if (b < 128) return big;
      shift += 7n;
    }
  }

  /** A varint that must fit a Number (lengths, counts). */
  count(): number {
    const v = this.varint();
    if (typeof v !== 'number') throw new RangeError('history block: count out of range');
    return v;
  }

  float64(): number {
    if (this.pos + 8 > this.end) throw new RangeError('history block truncated');
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A reader over the next length-prefixed section; this reader moves past it. */
  section(): ByteReader {
    const n = this.count();
    if (this.pos + n > this.end) throw new RangeError('history block truncated');
    const r = new ByteReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  skipSection() {
    this.section();
  }
}

const zigzag = (v: bigint) => (v >= 0n ? v << 1n : (-v << 1n) - 1n);
const unzigzag = (z: bigint) => (z & 1n ? -((z + 1n) >> 1n) : z >> 1n);
const big = (v: number | bigint) => (typeof v === 'bigint' ? v : BigInt(v));
const abs = (v: bigint) => (v < 0n ? -v : v);
function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

const ALL_NULL = 0;
const ALL_PRESENT = 1;
const MIXED = 2;

/** Writes the null map; returns how many values are present. */
function writeNulls(w: ByteWriter, values: readonly unknown[]): number {
  // Indexed loops here: the minute's blocks are encoded together, ~30 columns each, and an iterator
  // per column showed up as tens of MB of garbage per minute at 1,000 VMs (allocation profile).
  let present = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== null) present++;
  if (present === 0) {
    w.byte(ALL_NULL);
    return 0;
  }
  if (present === values.length) {
    w.byte(ALL_PRESENT);
    return present;
  }
  w.byte(MIXED);
  for (let i = 0; i < values.length; i += 8) {
    let bits = 0;
    for (let k = 0; k < 8 && i + k < values.length; k++) if (values[i + k] !== null) bits |= 1 << k;
    w.byte(bits);
  }
  return present;
}

/** null: all null; true: all present; else which are. */
function readNulls(r: ByteReader, n: number): boolean[] | true | null {
  const kind = r.byte();
  if (kind === ALL_NULL) return null;
  if (kind === ALL_PRESENT) return true;
  if (kind !== MIXED) throw new RangeError('history block: bad null map');
  const present = new Array<boolean>(n);
  for (let i = 0; i < n; i += 8) {
    const bits = r.byte();
    for (let k = 0; k < 8 && i + k < n; k++) present[i + k] = (bits & (1 << k)) !== 0;
  }
  return present;
}

/** Spreads m present values over n slots as the null map says. */
function spread<T>(values: ArrayLike<T>, present: boolean[] | true, n: number): (T | null)[] {
  const out = new Array<T | null>(n);
  if (present === true) for (let i = 0; i < n; i++) out[i] = values[i]!;
  else for (let i = 0, j = 0; i < n; i++) out[i] = present[i] ? values[j++]! : null;
  return out;
}

/** Below this, a difference and its zigzag stay exact in a Number. */
const SMALL = 2 ** 51;
const zigzagN = (v: number) => (v >= 0 ? v * 2 : -v * 2 - 1);
const unzigzagN = (z: number) => (z % 2 ? -(z + 1) / 2 : z / 2);
function gcdN(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** A column's first-order differences as Numbers, reused: the codec runs on one thread, one column at a time. */
let deltaScratch = new Float64Array(256);
function deltaRoom(m: number): Float64Array {
  if (deltaScratch.length < m) deltaScratch = new Float64Array(Math.max(m, deltaScratch.length * 2));
  return deltaScratch;
}

/**
 * The greatest common divisor of the differences to store (`order` 1: the m first-order
 * differences in `deltas`, small; 2: their own differences), or −1 when one of those is not small.
 */
function smallDifferencesGcd(deltas: Float64Array, m: number, order: 1 | 2): number {
  let g = 0;
  let prev = 0;
  for (let i = 0; i < m; i++) {
    const delta = deltas[i]!;
    const d = order === 2 ? delta - prev : delta;
    if (!(Math.abs(d) < SMALL)) return -1;
    prev = delta;
    if (d && g !== 1) g = gcdN(Math.abs(d), g);
  }
  return g;
}

/**
 * What follows a column's first value when its differences are small (g from smallDifferencesGcd):
 * g, then each difference divided by g as its zigzag varint, a run of zeros as 0 and the run's
 * length − 1. From a typed array, so that neither a block's slab nor the differences become an
 * array of heap numbers: at a minute's end that is 750 blocks × ~35 columns × 60 values, and their
 * garbage's GC ran in the event loop's longest delays (bench/README.md, "The minute's encoding
 * without arrays").
 */
function writeSmallDifferences(w: ByteWriter, deltas: Float64Array, m: number, order: 1 | 2, g: number) {
  w.varint(g);
  if (!g) return;
  let prev = 0;
  let run = 0;
  for (let i = 0; i < m; i++) {
    const delta = deltas[i]!;
    const d = order === 2 ? delta - prev : delta;
    prev = delta;
    if (d === 0) {
      run++;
      continue;
    }
    if (run) writeZeroRun(w, run);
    run = 0;
    w.varint(zigzagN(d / g));
  }
  if (run) writeZeroRun(w, run);
}

function writeZeroRun(w: ByteWriter, run: number) {
  w.varint(0);
  w.varint(run - 1);
}

/** The differences to store (1st or 2nd order) as BigInt: for those that are not small. */
function differencesBig(xs: readonly (bigint | number)[], order: 1 | 2): bigint[] {
  const out = new Array<bigint>(xs.length - 1);
  let prev = 0n;
  for (let i = 1; i < xs.length; i++) {
    const delta = big(xs[i]!) - big(xs[i - 1]!);
    out[i - 1] = order === 2 ? delta - prev : delta;
    prev = delta;
  }
  return out;
}

/**
 * Integers (BigInt or safe Number), nullable. `order` 1 stores differences (gauges, ids),
 * 2 stores differences of differences (counters and timestamps, which rise at a steady pace).
 */
export function writeIntColumn(w: ByteWriter, values: readonly (bigint | number | null)[], order: 1 | 2) {
  const present = writeNulls(w, values);
  if (!present) return;
  const xs = present === values.length ? (values as readonly (bigint | number)[]) : values.filter((v): v is bigint | number => v !== null);
  const first = xs[0]!;
  w.varint(typeof first === 'number' && Math.abs(first) < SMALL ? zigzagN(first) : zigzag(big(first)));
  if (xs.length === 1) return;
  const m = xs.length - 1;
  const deltas = deltaRoom(m);
  let small = true;
  for (let i = 0; i < m && small; i++) {
    const a = xs[i]!;
    const b = xs[i + 1]!;
    // one BigInt subtraction at most: a minute of a counter's increments is small even past 2^53
    deltas[i] = typeof a === 'number' && typeof b === 'number' ? b - a : Number(big(b) - big(a));
    small = Math.abs(deltas[i]!) < SMALL;
  }
  const g = small ? smallDifferencesGcd(deltas, m, order) : -1;
  if (g >= 0) return writeSmallDifferences(w, deltas, m, order, g);
  const ds = differencesBig(xs, order);
  let gb = 0n;
  for (const d of ds) if (d && gb !== 1n) gb = gcd(abs(d), gb);
  w.varint(gb);
  if (!gb) return;
  for (let i = 0; i < ds.length; i++) {
    if (ds[i] !== 0n) {
      w.varint(zigzag(ds[i]! / gb));
      continue;
    }
    let run = 1;
    while (i + run < ds.length && ds[i + run] === 0n) run++;
    writeZeroRun(w, run);
    i += run - 1;
  }
}

/**
 * writeIntColumn's bytes for n present values read from `xs` at start, start + stride, … (a
 * block's slab), without arrays; only where the values and their differences are small Numbers,
 * the usual case. Otherwise it writes nothing and answers false, and the caller takes writeIntColumn.
 */
export function writeIntColumnStrided(w: ByteWriter, xs: Float64Array | Uint8Array | Uint16Array, start: number, stride: number, n: number, order: 1 | 2): boolean {
  if (n === 0 || !(Math.abs(xs[start]!) < SMALL)) return false;
  const m = n - 1;
  const deltas = deltaRoom(m);
  for (let i = 0, at = start; i < m; i++, at += stride) {
    deltas[i] = xs[at + stride]! - xs[at]!;
    if (!(Math.abs(deltas[i]!) < SMALL)) return false;
  }
  const g = smallDifferencesGcd(deltas, m, order);
  if (g < 0) return false;
  w.byte(ALL_PRESENT);
  w.varint(zigzagN(xs[start]!));
  if (m) writeSmallDifferences(w, deltas, m, order, g);
  return true;
}

/**
 * The present values of a column: the first, and per value the delta from the one before, as a
 * Number while the stored differences stay small (the usual case), else as a BigInt.
 */
function readDeltas(r: ByteReader, m: number, order: 1 | 2): { first: bigint; deltas: (number | bigint)[] } {
  const first = unzigzag(big(r.varint()));
  const deltas = new Array<number | bigint>(m - 1);
  if (m === 1) return { first, deltas };
  const g = r.varint();
  if (g === 0) return { first, deltas: deltas.fill(0) };
  let delta: number | bigint = 0;
  for (let i = 0; i < m - 1; ) {
    const z = r.varint();
    let run = 1;
    let d: number | bigint = 0;
    if (z === 0) run += r.count();
    else if (typeof z === 'number' && typeof g === 'number' && typeof delta === 'number') {
      d = unzigzagN(z) * g;
      if (!(Math.abs(d) < SMALL)) d = unzigzag(big(z)) * big(g);
    } else d = unzigzag(big(z)) * big(g);
    if (i + run > m - 1) throw new RangeError('history block: bad zero run');
    // d is zero inside a run: an order-2 column keeps its pace, an order-1 column stands still
    for (const end = i + run; i < end; i++) {
      if (order === 1) delta = d;
      else if (typeof delta === 'number' && typeof d === 'number' && Math.abs(delta + d) < SMALL) delta += d;
      else delta = big(delta) + big(d);
      deltas[i] = delta;
    }
  }
  return { first, deltas };
}

export function readIntColumn(r: ByteReader, n: number, order: 1 | 2): (bigint | null)[] {
  const present = readNulls(r, n);
  if (!present) return new Array<null>(n).fill(null);
  const m = count(present, n);
  const small = readSmall(r, m, order);
  if (small) {
    const xs = new Array<bigint>(m);
    for (let i = 0; i < m; i++) xs[i] = BigInt(small[i]!);
    return spread(xs, present, n);
  }
  const { first, deltas } = readDeltas(r, m, order);
  const xs = new Array<bigint>(m);
  xs[0] = first;
  for (let k = 1; k < m; k++) xs[k] = xs[k - 1]! + big(deltas[k - 1]!);
  return spread(xs, present, n);
}

/** A column known to hold small values (times, counts, codes, scaled decimals), as Numbers. */
export const readNumberColumn = (r: ByteReader, n: number, order: 1 | 2) => nullable(readNumbersF64(r, n, order));

/** The same as a Float64Array, NaN where null: what the history reads use, with nothing to allocate per value. */
export function readNumbersF64(r: ByteReader, n: number, order: 1 | 2): Float64Array {
  const present = readNulls(r, n);
  if (!present) return new Float64Array(n).fill(NaN);
  const values = readNumbers(r, count(present, n), order);
  return spreadF64(values, present, n);
}

function spreadF64(values: Float64Array, present: boolean[] | true, n: number): Float64Array {
  if (present === true) return values;
  const out = new Float64Array(n);
  for (let i = 0, j = 0; i < n; i++) out[i] = present[i] ? values[j++]! : NaN;
  return out;
}

const nullable = (xs: Float64Array): (number | null)[] => {
  const out = new Array<number | null>(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = Number.isNaN(xs[i]) ? null : xs[i]!;
  return out;
};

function readNumbers(r: ByteReader, m: number, order: 1 | 2): Float64Array {
  const small = readSmall(r, m, order);
  if (small) return small;
  const { first, deltas } = readDeltas(r, m, order);
  const xs = new Float64Array(m);
  let x = Number(first);
  xs[0] = x;
  for (let k = 1; k < m; k++) {
    const d = deltas[k - 1]!;
    x = typeof d === 'number' ? x + d : Number(BigInt(x) + d); // a big step between two small values
    if (!Number.isSafeInteger(x)) throw new RangeError('history block: value out of range');
    xs[k] = x;
  }
  return xs;
}

/**
 * The common case, all in Numbers: every value and difference small. Returns null (and leaves
 * the reader where it was) when a value needs BigInt. Varints are read inline: this is the loop
 * every history read spends its time in.
 */
function readSmall(r: ByteReader, m: number, order: 1 | 2): Float64Array | null {
  const buf = r.buf;
  const end = r.end;
  let pos = r.pos;
  // -1 when the varint does not fit 49 bits (the caller falls back to BigInt)
  const next = (): number => {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= end) throw new RangeError('history block truncated');
      const b = buf[pos++]!;
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
    }
    return -1;
  };
  const out = new Float64Array(m);
  const z0 = next();
  if (z0 < 0) return null;
  let x = unzigzagN(z0);
  out[0] = x;
  if (m > 1) {
    const g = next();
    if (g < 0) return null;
    if (g === 0) out.fill(x);
    else {
      let delta = 0;
      for (let i = 1; i < m; ) {
        const z = next();
        if (z < 0) return null;
        let run = 1;
        let d = 0;
        if (z === 0) {
          const extra = next();
          if (extra < 0) return null;
          run += extra;
        } else d = unzigzagN(z) * g;
        if (i + run > m) throw new RangeError('history block: bad zero run');
        for (const stop = i + run; i < stop; i++) {
          delta = order === 2 ? delta + d : d;
          x += delta;
          if (!(Math.abs(delta) < SMALL && Math.abs(x) < SMALL)) return null;
          out[i] = x;
        }
      }
    }
  }
  r.pos = pos;
  return out;
}

const count = (present: boolean[] | true, n: number) => (present === true ? n : present.reduce((c, p) => c + (p ? 1 : 0), 0));

const RAW_FLOATS = 255;
const WITH_EXCEPTIONS = 128;
const MAX_DECIMALS = 9;

const exactAt = (v: number, scale: number) => Number.isFinite(v) && Math.abs(v * scale) < TWO_53 && Math.round(v * scale) / scale === v && !Object.is(v, -0);

/**
 * The fewest decimals that hold every value exactly as a safe integer; else those that hold all
 * but a few (a minute with a restart in it); else none.
 */
function decimalsOf(xs: readonly number[]): { k: number; misses: number[] } | null {
  // Counted first, listed once for the decimals chosen: no array per try (a minute's summaries ask
  // this of ~20,000 one-value columns at 750 running VMs).
  const most = xs.length / 4;
  let bestK = -1;
  let bestMisses = Number.POSITIVE_INFINITY;
  for (let k = 0, scale = 1; k <= MAX_DECIMALS; k++, scale *= 10) {
    let misses = 0;
    for (let i = 0; i < xs.length && misses <= most; i++) if (!exactAt(xs[i]!, scale)) misses++;
    if (!misses) return { k, misses: [] };
    if (misses <= most && misses < bestMisses) {
      bestK = k;
      bestMisses = misses;
    }
  }
  if (bestK < 0) return null;
  const scale = 10 ** bestK;
  const misses: number[] = [];
  for (let i = 0; i < xs.length; i++) if (!exactAt(xs[i]!, scale)) misses.push(i);
  return { k: bestK, misses };
}

/** Floats, nullable: as scaled integers when they are short decimals (exact; the odd one out kept raw), else raw. */
export function writeFloatColumn(w: ByteWriter, values: readonly (number | null)[]) {
  if (!writeNulls(w, values)) return;
  const xs = values.filter((v): v is number => v !== null);
  const d = decimalsOf(xs);
  if (!d) {
    w.byte(RAW_FLOATS);
    for (const v of xs) w.float64(v);
    return;
  }
  const scale = 10 ** d.k;
  const ints = xs.map((v) => Math.round(v * scale));
  w.byte(d.k | (d.misses.length ? WITH_EXCEPTIONS : 0));
  if (d.misses.length) {
    w.varint(d.misses.length);
    for (const i of d.misses) {
      w.varint(i);
      w.float64(xs[i]!);
      ints[i] = i > 0 ? ints[i - 1]! : 0; // a placeholder that costs nothing in the differences
    }
  }
  writeIntColumn(w, ints, 1);
}

export const readFloatColumn = (r: ByteReader, n: number) => nullable(readFloatsF64(r, n));

/** Floats as a Float64Array, NaN where null. */
export function readFloatsF64(r: ByteReader, n: number): Float64Array {
  const present = readNulls(r, n);
  if (!present) return new Float64Array(n).fill(NaN);
  const m = count(present, n);
  const mode = r.byte();
  let xs: Float64Array;
  if (mode === RAW_FLOATS) {
    xs = new Float64Array(m);
    for (let i = 0; i < m; i++) xs[i] = r.float64();
  } else {
    const k = mode & ~WITH_EXCEPTIONS;
    if (k > MAX_DECIMALS) throw new RangeError('history block: bad float column');
    const exceptions: [number, number][] = [];
    if (mode & WITH_EXCEPTIONS) for (let c = r.count(); c > 0; c--) exceptions.push([r.count(), r.float64()]);
    xs = readNumbersF64(r, m, 1); // written as an integer column, null map and all
    const scale = 10 ** k;
    for (let i = 0; i < m; i++) xs[i] = xs[i]! / scale;
    for (const [i, v] of exceptions) xs[i] = v;
  }
  return spreadF64(xs, present, n);
}
