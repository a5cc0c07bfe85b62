// The byte codecs of the history blocks: unsigned LEB128 varints, zigzag for signed values, and
// two column codecs. A column is a series of nullable values of one field; it is written as a
// null map, then the values' differences (1st or 2nd order), divided by their greatest common
// divisor, zigzagged, with runs of zeros collapsed. Integers are BigInt throughout, so counters
// past 2^53 (and resets from such values to 0) stay exact. Floats whose values are all short
// decimals (a rounded rate or percentage) are written as scaled integers, others as raw float64.

const TWO_53 = 2 ** 53;

export class ByteWriter {
  private buf = new Uint8Array(256);
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
      while (v >= 128) {
        this.buf[this.length++] = (v % 128) | 128;
        v = Math.floor(v / 128);
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
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.length, v, true);
    this.length += 8;
  }

  bytes(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** A length-prefixed section, so a reader can skip what it does not need. */
  section(inner: ByteWriter) {
    this.varint(inner.length);
    this.bytes(inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export class ByteReader {
  pos: number;
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
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getFloat64(this.pos, true);
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

function writeNulls(w: ByteWriter, values: readonly unknown[]): boolean {
  let present = 0;
  for (const v of values) if (v !== null) present++;
  if (present === 0) {
    w.byte(ALL_NULL);
    return false;
  }
  if (present === values.length) {
    w.byte(ALL_PRESENT);
    return true;
  }
  w.byte(MIXED);
  for (let i = 0; i < values.length; i += 8) {
    let bits = 0;
    for (let k = 0; k < 8 && i + k < values.length; k++) if (values[i + k] !== null) bits |= 1 << k;
    w.byte(bits);
  }
  return true;
}

function readNulls(r: ByteReader, n: number): boolean[] | null {
  const kind = r.byte();
  if (kind === ALL_NULL) return null;
  const present = new Array<boolean>(n);
  if (kind === ALL_PRESENT) return present.fill(true);
  if (kind !== MIXED) throw new RangeError('history block: bad null map');
  for (let i = 0; i < n; i += 8) {
    const bits = r.byte();
    for (let k = 0; k < 8 && i + k < n; k++) present[i + k] = (bits & (1 << k)) !== 0;
  }
  return present;
}

/**
 * Integers (BigInt or safe Number), nullable. `order` 1 stores differences (gauges, ids),
 * 2 stores differences of differences (counters and timestamps, which rise at a steady pace).
 */
export function writeIntColumn(w: ByteWriter, values: readonly (bigint | number | null)[], order: 1 | 2) {
  if (!writeNulls(w, values)) return;
  const xs: bigint[] = [];
  for (const v of values) if (v !== null) xs.push(big(v));
  w.varint(zigzag(xs[0]!));
  if (xs.length === 1) return;
  const diffs = new Array<bigint>(xs.length - 1);
  let prevDelta = 0n;
  let g = 0n;
  for (let i = 1; i < xs.length; i++) {
    const delta = xs[i]! - xs[i - 1]!;
    const d = order === 2 ? delta - prevDelta : delta;
    prevDelta = delta;
    diffs[i - 1] = d;
    if (d) g = g === 1n ? 1n : gcd(abs(d), g);
  }
  w.varint(g);
  if (g === 0n) return; // every difference is zero
  for (let i = 0; i < diffs.length; i++) {
    const d = diffs[i]!;
    if (d === 0n) {
      let run = 1;
      while (i + run < diffs.length && diffs[i + run] === 0n) run++;
      w.varint(0);
      w.varint(run - 1);
      i += run - 1;
    } else w.varint(zigzag(g === 1n ? d : d / g));
  }
}

export function readIntColumn(r: ByteReader, n: number, order: 1 | 2): (bigint | null)[] {
  const out = new Array<bigint | null>(n).fill(null);
  const present = readNulls(r, n);
  if (!present) return out;
  const m = present.reduce((c, p) => c + (p ? 1 : 0), 0);
  const xs = new Array<bigint>(m);
  xs[0] = unzigzag(big(r.varint()));
  if (m > 1) {
    const g = big(r.varint());
    let delta = 0n;
    for (let i = 1; i < m; ) {
      let d = 0n;
      let run = 1;
      if (g === 0n) run = m - i;
      else {
        const z = big(r.varint());
        if (z === 0n) run += r.count();
        else d = unzigzag(z) * g;
      }
      if (i + run > m) throw new RangeError('history block: bad zero run');
      // d is zero inside a run: an order-2 column keeps its pace, an order-1 column stands still
      for (const end = i + run; i < end; i++) {
        delta = order === 2 ? delta + d : d;
        xs[i] = xs[i - 1]! + delta;
      }
    }
  }
  for (let i = 0, k = 0; i < n; i++) if (present[i]) out[i] = xs[k++]!;
  return out;
}

const RAW_FLOATS = 255;
const MAX_DECIMALS = 9;

/** The fewest decimals that hold every value exactly as a safe integer, or null. */
function decimalsOf(xs: readonly number[]): number | null {
  for (let k = 0, scale = 1; k <= MAX_DECIMALS; k++, scale *= 10) {
    if (xs.every((v) => Number.isFinite(v) && Math.abs(v * scale) < TWO_53 && Math.round(v * scale) / scale === v && !Object.is(v, -0))) return k;
  }
  return null;
}

/** Floats, nullable: as scaled integers when all are short decimals (exact), else raw. */
export function writeFloatColumn(w: ByteWriter, values: readonly (number | null)[]) {
  if (!writeNulls(w, values)) return;
  const xs = values.filter((v): v is number => v !== null);
  const k = decimalsOf(xs);
  if (k === null) {
    w.byte(RAW_FLOATS);
    for (const v of xs) w.float64(v);
    return;
  }
  w.byte(k);
  const scale = 10 ** k;
  writeIntColumn(w, xs.map((v) => Math.round(v * scale)), 1);
}

export function readFloatColumn(r: ByteReader, n: number): (number | null)[] {
  const out = new Array<number | null>(n).fill(null);
  const present = readNulls(r, n);
  if (!present) return out;
  const m = present.reduce((c, p) => c + (p ? 1 : 0), 0);
  const k = r.byte();
  let xs: number[];
  if (k === RAW_FLOATS) xs = Array.from({ length: m }, () => r.float64());
  else {
    if (k > MAX_DECIMALS) throw new RangeError('history block: bad float column');
    const scale = 10 ** k;
    xs = readIntColumn(r, m, 1).map((v) => Number(v) / scale);
  }
  for (let i = 0, j = 0; i < n; i++) if (present[i]) out[i] = xs[j++]!;
  return out;
}
