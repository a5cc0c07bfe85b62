// Per-VM records of the metrics by name. Both keep them fast objects that share hidden classes:
// V8 turns an object that gains more than a dozen properties through keyed stores (`o[name] = v`)
// into a dictionary (~8 KB a record for rates + angles, slower to read everywhere after).
// setMetric: a metric set on a record by its name through NAMED stores. MetricRecord: a sample's
// metrics, made at once, as doubles read by name (readAsRecord).
import { METRIC_NAMES, type MetricName } from '../../../domain/metrics.js';
import { exactCount } from '../../../lib/counts.js';
import { Float64Slabs } from '../../../lib/slabs.js';

export function setMetric<T>(o: Partial<Record<MetricName, T>>, m: MetricName, v: T): void {
  switch (m) {
    case 'cputime':
      o.cputime = v;
      return;
    case 'timeusr':
      o.timeusr = v;
      return;
    case 'timesys':
      o.timesys = v;
      return;
    case 'memswap_in':
      o.memswap_in = v;
      return;
    case 'memswap_out':
      o.memswap_out = v;
      return;
    case 'memmajor_fault':
      o.memmajor_fault = v;
      return;
    case 'memminor_fault':
      o.memminor_fault = v;
      return;
    case 'net_rxbytes':
      o.net_rxbytes = v;
      return;
    case 'net_rxpackets':
      o.net_rxpackets = v;
      return;
    case 'net_rxerrors':
      o.net_rxerrors = v;
      return;
    case 'net_rxdrops':
      o.net_rxdrops = v;
      return;
    case 'net_txbytes':
      o.net_txbytes = v;
      return;
    case 'net_txpackets':
      o.net_txpackets = v;
      return;
    case 'net_txerrors':
      o.net_txerrors = v;
      return;
    case 'net_txdrops':
      o.net_txdrops = v;
      return;
    case 'disk_rd_req':
      o.disk_rd_req = v;
      return;
    case 'disk_rd_bytes':
      o.disk_rd_bytes = v;
      return;
    case 'disk_wr_reqs':
      o.disk_wr_reqs = v;
      return;
    case 'disk_wr_bytes':
      o.disk_wr_bytes = v;
      return;
    case 'disk_errors':
      o.disk_errors = v;
      return;
    case 'memactual':
      o.memactual = v;
      return;
    case 'memrss':
      o.memrss = v;
      return;
    case 'memavailable':
      o.memavailable = v;
      return;
    case 'memusable':
      o.memusable = v;
      return;
    case 'memdisk_cache':
      o.memdisk_cache = v;
      return;
    default:
      throw new Error(`unknown metric ${m satisfies never}`);
  }
}

const M = METRIC_NAMES.length;

/**
 * Gives a class a getter per name of `names` (enumerable, like a plain record's keys) and a
 * `toJSON()` with the names that have a value, in that order, each stored with `set`: its
 * instances read like the plain records they stand for (replicas get those over JSON).
 */
export function readAsRecord<T extends object, N extends string>(
  proto: T,
  names: readonly N[],
  read: (self: T, k: number) => unknown,
  set: (o: Partial<Record<N, unknown>>, name: N, v: unknown) => void,
): void {
  names.forEach((m, k) => {
    Object.defineProperty(proto, m, {
      get(this: T) {
        return read(this, k);
      },
      enumerable: true,
    });
  });
  Object.defineProperty(proto, 'toJSON', {
    value(this: T): Partial<Record<N, unknown>> {
      const out: Partial<Record<N, unknown>> = {};
      for (let k = 0; k < names.length; k++) {
        const v = read(this, k);
        if (v !== undefined) set(out, names[k]!, v);
      }
      return out;
    },
  });
}

/** set bits below bit `c` */
function bitsBelow(bits: number, c: number): number {
  let n = 0;
  for (let b = bits & ((1 << c) - 1); b !== 0; b &= b - 1) n++;
  return n;
}

/**
 * One sample's counters (a VM's metrics, a NIC's, a disk's), read as BigInts (undefined: not
 * reported). The values sit as doubles in a row of slabs shared by 64 records (`lib/slabs.ts`); a
 * BigInt is made when a counter is read, and kept only for a value no double holds exactly (past
 * 2^53 − 1). Records used to hold their BigInts, made again every tick for every VM: most of the
 * BigInts a tick keeps alive until the next one replaces them (what each scavenge copies), though
 * the collector's rates and the history store read the doubles (metricNumber()).
 */
export abstract class CounterRow {
  readonly #numbers: Float64Array;
  readonly #at: number;
  /** bit c: counter c reported */
  readonly #present: number = 0;
  /** bit c: counter c held as a BigInt in #wide (in bit order), its slot NaN */
  readonly #wideBits: number = 0;
  readonly #wide: bigint[] | undefined;

  /** `v[c]`: counter c's value; a number must be a non-negative integer a double holds exactly */
  protected constructor(slabs: Float64Slabs, v: readonly (bigint | number | undefined)[]) {
    this.#at = slabs.row();
    this.#numbers = slabs.slab;
    let wide: bigint[] | undefined;
    for (let c = 0; c < slabs.width; c++) {
      const value = v[c];
      const x = typeof value === 'number' ? value : exactCount(value);
      this.#numbers[this.#at + c] = x;
      if (value === undefined) continue;
      this.#present |= 1 << c;
      if (Number.isNaN(x)) {
        wide ??= [];
        wide.push(value as bigint);
        this.#wideBits |= 1 << c;
      }
    }
    this.#wide = wide;
  }

  /** counter c as a BigInt made now (undefined: not reported) */
  protected counter(c: number): bigint | undefined {
    const bit = 1 << c;
    if ((this.#present & bit) === 0) return undefined;
    if ((this.#wideBits & bit) !== 0) return this.#wide![bitsBelow(this.#wideBits, c)];
    return BigInt(this.#numbers[this.#at + c]!);
  }

  /** counter c of a CounterRow as an exact double (NaN: not reported, or only its BigInt is exact); undefined for any other record */
  static numberOf(row: object, c: number): number | undefined {
    return row instanceof CounterRow ? row.#numbers[row.#at + c]! : undefined;
  }

  /** whether a CounterRow has any counter; undefined for any other record */
  static anyOf(row: object): boolean | undefined {
    return row instanceof CounterRow ? row.#present !== 0 : undefined;
  }
}

const slabs = new Float64Slabs(M);

/** A VM's metrics of one sample, from their values in METRIC_NAMES order (undefined: not reported), read by name like a plain record of BigInts (`r.cputime`, `r[m]`). */
export class MetricRecord extends CounterRow implements Partial<Record<MetricName, bigint>> {
  declare readonly cputime?: bigint;
  declare readonly timeusr?: bigint;
  declare readonly timesys?: bigint;
  declare readonly memactual?: bigint;
  declare readonly memrss?: bigint;
  declare readonly memavailable?: bigint;
  declare readonly memusable?: bigint;
  declare readonly memswap_in?: bigint;
  declare readonly memswap_out?: bigint;
  declare readonly memmajor_fault?: bigint;
  declare readonly memminor_fault?: bigint;
  declare readonly memdisk_cache?: bigint;
  declare readonly net_rxbytes?: bigint;
  declare readonly net_rxpackets?: bigint;
  declare readonly net_rxerrors?: bigint;
  declare readonly net_rxdrops?: bigint;
  declare readonly net_txbytes?: bigint;
  declare readonly net_txpackets?: bigint;
  declare readonly net_txerrors?: bigint;
  declare readonly net_txdrops?: bigint;
  declare readonly disk_rd_req?: bigint;
  declare readonly disk_rd_bytes?: bigint;
  declare readonly disk_wr_reqs?: bigint;
  declare readonly disk_wr_bytes?: bigint;
  declare readonly disk_errors?: bigint;
  /** the metrics reported, as a plain record in METRIC_NAMES order (what JSON.stringify writes) */
  declare readonly toJSON: () => Partial<Record<MetricName, bigint>>;

  /** `v[i]`: METRIC_NAMES[i]'s value; a number must be a non-negative integer a double holds exactly */
  constructor(v: readonly (bigint | number | undefined)[]) {
    super(slabs, v);
  }

  static {
    readAsRecord(MetricRecord.prototype, METRIC_NAMES, (r, c) => r.counter(c), setMetric);
  }
}

/**
 * Metric `c` (its METRIC_NAMES index) of a metrics record as an exact double; NaN when absent or
 * when only its BigInt is exact (read `metrics[name]` then). Cheap for the collector's records,
 * a conversion for any other (a replica's over JSON, history's).
 */
export function metricNumber(metrics: Partial<Record<MetricName, bigint>>, c: number): number {
  return CounterRow.numberOf(metrics, c) ?? exactCount(metrics[METRIC_NAMES[c]!]);
}

/** Whether a metrics record has any metric (`Object.keys(…).length > 0` without an array per VM per tick). */
export function hasAnyMetric(metrics: Partial<Record<MetricName, bigint>>): boolean {
  const any = CounterRow.anyOf(metrics);
  if (any !== undefined) return any;
  for (const _ in metrics) return true;
  return false;
}
