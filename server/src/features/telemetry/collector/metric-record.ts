// A metric set on a per-VM record by its name through NAMED stores. V8 turns an object that gains
// more than a dozen properties through keyed stores (`o[name] = v`) into a dictionary (~8 KB a
// record for rates + angles, slower to read everywhere after); named stores keep these records fast
// objects that share hidden classes.
import type { MetricName } from '../../../domain/metrics.js';

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
