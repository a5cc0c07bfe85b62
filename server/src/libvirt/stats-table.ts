// Reading a StatsTable (types.ts): a value by entry, a key's entry in a row, a row as a record.
import { countOf, exactCount } from '../lib/counts.js';
import type { StatParams, StatsTable, StatValue } from './types.js';

// Param kinds (native/src/common.h): 0 int, 1 uint and 4 double are read as the double they are stored as.
const I64 = 2;
const U64 = 3;
const BOOL = 5;
const STR = 6;
/** the machine stores the low 32 bits of a 64-bit integer first (every platform Node ships for but s390x) */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** 2^53 / 2^32: a 64-bit integer whose high half is below this is exact as a double */
const HIGH_EXACT = 2 ** 21;

// Every stats key name seen, numbered once for the process (key names are libvirt's fixed ones and
// `net.<i>.…`-style ones per device index: a bounded set). Readers find a key by its number: a Map
// lookup of the name per key per VM per tick was 0.7 ms of CPU per second at 1,000 VMs.
const slots = new Map<string, number>();

/** a stats key name's number */
export function statsKeySlot(key: string): number {
  let s = slots.get(key);
  if (s === undefined) {
    s = slots.size;
    slots.set(key, s);
  }
  return s;
}

export class StatsTableReader {
  readonly table: StatsTable;
  private readonly i64: BigInt64Array;
  private readonly u64: BigUint64Array;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  /** key index by key number (statsKeySlot), -1 where the table has no such key */
  private bySlot: Int32Array | undefined;
  /** entry of each key in row `row` (-1: absent), filled by at() */
  private pos: Int32Array | undefined;
  private row = -1;

  constructor(table: StatsTable) {
    this.table = table;
    this.i64 = new BigInt64Array(table.values);
    this.u64 = new BigUint64Array(table.values);
    this.f64 = new Float64Array(table.values);
    this.u32 = new Uint32Array(table.values);
  }

  get rows(): number {
    return this.table.uuids.length;
  }

  /** index of a key in the table's key list, -1 when no row has it */
  keyOf(key: string): number {
    return this.keyAt(statsKeySlot(key));
  }

  /** index of the key numbered `slot` (statsKeySlot) in the table's key list, -1 when no row has it */
  keyAt(slot: number): number {
    if (!this.bySlot) {
      const { keys } = this.table;
      const at = keys.map(statsKeySlot);
      // every key of the table has its number now: a slot past them is one no row has
      this.bySlot = new Int32Array(slots.size).fill(-1);
      for (let i = 0; i < keys.length; i++) this.bySlot[at[i]!] = i;
    }
    return this.bySlot[slot] ?? -1;
  }

  /** the value of entry j, as the object form would hold it (64-bit integers as bigint) */
  value(j: number): StatValue {
    switch (this.table.kind[j]) {
      case I64:
        return this.i64[j]!;
      case U64:
        return this.u64[j]!;
      case BOOL:
        return this.f64[j] !== 0;
      case STR:
        return this.table.strings[this.f64[j]!]!;
      default: // I32, U32, F64
        return this.f64[j]!;
    }
  }

  /**
   * Entry j as a double when it is a non-negative integer that a double holds exactly; NaN when it
   * is not one (a string, a boolean, a fraction, a negative, a 64-bit integer past 2^53 − 1: read
   * value() then). A 64-bit integer is read from its two 32-bit halves, with no BigInt made.
   */
  number(j: number): number {
    switch (this.table.kind[j]) {
      case I64:
      case U64: {
        // I64: a negative one has its top bit set, so its high half is past HIGH_EXACT too
        if (!LITTLE_ENDIAN) return exactCount(this.u64[j]!);
        const high = this.u32[2 * j + 1]!;
        return high < HIGH_EXACT ? high * 2 ** 32 + this.u32[2 * j]! : Number.NaN;
      }
      case BOOL:
      case STR:
        return Number.NaN;
      default:
        return exactCount(this.f64[j]!);
    }
  }

  /** entry j as a counter (lib/counts.ts countOf): its exact double from number() where there is one, else its BigInt; undefined when negative or not a number */
  counter(j: number): number | bigint | undefined {
    const x = this.number(j);
    return x >= 0 ? x : countOf(this.value(j));
  }

  /** the entry of key index `k` in `row`, -1 when absent (rows are read one after the other: cheap) */
  entry(row: number, k: number): number {
    if (k < 0) return -1;
    if (row !== this.row) {
      const { start, key } = this.table;
      this.pos ??= new Int32Array(this.table.keys.length);
      this.pos.fill(-1);
      for (let j = start[row]!, end = start[row + 1]!; j < end; j++) this.pos[key[j]!] = j;
      this.row = row;
    }
    return this.pos![k]!;
  }

  /** `row` as the object form's `params` (keys in libvirt's order), added to `into` */
  record(row: number, into: StatParams = {}): StatParams {
    const { start, key, keys } = this.table;
    for (let j = start[row]!, end = start[row + 1]!; j < end; j++) into[keys[key[j]!]!] = this.value(j);
    return into;
  }
}
