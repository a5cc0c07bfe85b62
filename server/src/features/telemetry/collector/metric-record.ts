// Per-VM records of the metrics by name. Both keep them fast objects that share hidden classes:
// V8 turns an object that gains more than a dozen properties through keyed stores (`o[name] = v`)
// into a dictionary (~8 KB a record for rates + angles, slower to read everywhere after).
// setMetric: a metric set on a record by its name through NAMED stores. MetricRecord: a sample's
// metrics, made at once.
import { METRIC_NAMES, type MetricName } from '../../../domain/metrics.js';
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
const slabs = new Float64Slabs(M);

/**
 * A VM's metrics of one sample, from their values in METRIC_NAMES order (undefined: not reported,
 * left absent). Each present metric is assigned by name in the constructor, so V8 gives the records
 * room for all 25 in the object itself: a record grown key by key (setMetric on `{}`) reallocates
 * its out-of-object property store seven times on the way, ~700 bytes of garbage per VM per tick.
 * Beside the BigInts, each value as a double where that is exact (metricNumber()): the collector's
 * rates and the history store read those instead of converting ~65 BigInts per VM per tick.
 */
export class MetricRecord implements Partial<Record<MetricName, bigint>> {
  readonly #numbers: Float64Array;
  readonly #at: number;
  declare cputime?: bigint;
  declare timeusr?: bigint;
  declare timesys?: bigint;
  declare memactual?: bigint;
  declare memrss?: bigint;
  declare memavailable?: bigint;
  declare memusable?: bigint;
  declare memswap_in?: bigint;
  declare memswap_out?: bigint;
  declare memmajor_fault?: bigint;
  declare memminor_fault?: bigint;
  declare memdisk_cache?: bigint;
  declare net_rxbytes?: bigint;
  declare net_rxpackets?: bigint;
  declare net_rxerrors?: bigint;
  declare net_rxdrops?: bigint;
  declare net_txbytes?: bigint;
  declare net_txpackets?: bigint;
  declare net_txerrors?: bigint;
  declare net_txdrops?: bigint;
  declare disk_rd_req?: bigint;
  declare disk_rd_bytes?: bigint;
  declare disk_wr_reqs?: bigint;
  declare disk_wr_bytes?: bigint;
  declare disk_errors?: bigint;

  /** `v[i]`: METRIC_NAMES[i]'s value */
  constructor(v: readonly (bigint | undefined)[]) {
    this.#at = slabs.row();
    this.#numbers = slabs.slab;
    for (let c = 0; c < M; c++) this.#numbers[this.#at + c] = exactNumber(v[c]);
    if (v[0] !== undefined) this.cputime = v[0];
    if (v[1] !== undefined) this.timeusr = v[1];
    if (v[2] !== undefined) this.timesys = v[2];
    if (v[3] !== undefined) this.memactual = v[3];
    if (v[4] !== undefined) this.memrss = v[4];
    if (v[5] !== undefined) this.memavailable = v[5];
    if (v[6] !== undefined) this.memusable = v[6];
    if (v[7] !== undefined) this.memswap_in = v[7];
    if (v[8] !== undefined) this.memswap_out = v[8];
    if (v[9] !== undefined) this.memmajor_fault = v[9];
    if (v[10] !== undefined) this.memminor_fault = v[10];
    if (v[11] !== undefined) this.memdisk_cache = v[11];
    if (v[12] !== undefined) this.net_rxbytes = v[12];
    if (v[13] !== undefined) this.net_rxpackets = v[13];
    if (v[14] !== undefined) this.net_rxerrors = v[14];
    if (v[15] !== undefined) this.net_rxdrops = v[15];
    if (v[16] !== undefined) this.net_txbytes = v[16];
    if (v[17] !== undefined) this.net_txpackets = v[17];
    if (v[18] !== undefined) this.net_txerrors = v[18];
    if (v[19] !== undefined) this.net_txdrops = v[19];
    if (v[20] !== undefined) this.disk_rd_req = v[20];
    if (v[21] !== undefined) this.disk_rd_bytes = v[21];
    if (v[22] !== undefined) this.disk_wr_reqs = v[22];
    if (v[23] !== undefined) this.disk_wr_bytes = v[23];
    if (v[24] !== undefined) this.disk_errors = v[24];
  }

  /** metric c of a MetricRecord as metricNumber() gives it; undefined for any other record */
  static numberOf(metrics: object, c: number): number | undefined {
    return metrics instanceof MetricRecord ? metrics.#numbers[metrics.#at + c]! : undefined;
  }
}

/** A value as the double it equals, NaN when there is none (absent, negative, or past 2^53 − 1: exact only as a BigInt). */
function exactNumber(v: bigint | undefined): number {
  if (v === undefined) return Number.NaN;
  // Anything past 2^53 − 1 converts to at least 2^53: exact test with no BigInt comparison.
  const x = Number(v);
  return x >= 0 && x <= Number.MAX_SAFE_INTEGER ? x : Number.NaN;
}

/**
 * Metric `c` (its METRIC_NAMES index) of a metrics record as an exact double; NaN when absent or
 * when only its BigInt is exact (read `metrics[name]` then). Cheap for the collector's records,
 * a conversion for any other (a replica's over JSON, history's).
 */
export function metricNumber(metrics: Partial<Record<MetricName, bigint>>, c: number): number {
  return MetricRecord.numberOf(metrics, c) ?? exactNumber(metrics[METRIC_NAMES[c]!]);
}
