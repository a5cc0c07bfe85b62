// libvirt stats params (bulk virConnectGetAllDomainStats or our per-call batch: same keys)
// → the seed's metrics. Pure, unit-tested.
import type { StatParams } from '../../../libvirt/types.js';
import type { MetricName } from '../../../domain/metrics.js';
import type { DiskSample, NicSample } from '../../../domain/snapshot.js';

export interface MappedStats {
  metrics: Partial<Record<MetricName, bigint>>;
  nics: NicSample[];
  disks: DiskSample[];
  /** vCPUs in use, when the stats say */
  cpus?: number;
}

const SCALAR: [MetricName, string][] = [
  ['cputime', 'cpu.time'],
  ['timeusr', 'cpu.user'],
  ['timesys', 'cpu.system'],
  ['memactual', 'balloon.current'],
  ['memrss', 'balloon.rss'],
  ['memavailable', 'balloon.available'],
  ['memusable', 'balloon.usable'],
  ['memswap_in', 'balloon.swap_in'],
  ['memswap_out', 'balloon.swap_out'],
  ['memmajor_fault', 'balloon.major_fault'],
  ['memminor_fault', 'balloon.minor_fault'],
  ['memdisk_cache', 'balloon.disk_caches'],
];

const NIC: [keyof Omit<NicSample, 'name'>, string, MetricName][] = [
  ['rxbytes', 'rx.bytes', 'net_rxbytes'],
  ['rxpackets', 'rx.pkts', 'net_rxpackets'],
  ['rxerrors', 'rx.errs', 'net_rxerrors'],
  ['rxdrops', 'rx.drop', 'net_rxdrops'],
  ['txbytes', 'tx.bytes', 'net_txbytes'],
  ['txpackets', 'tx.pkts', 'net_txpackets'],
  ['txerrors', 'tx.errs', 'net_txerrors'],
  ['txdrops', 'tx.drop', 'net_txdrops'],
];

const DISK: [keyof Omit<DiskSample, 'name' | 'allocation' | 'capacity'>, string, MetricName][] = [
  ['rd_req', 'rd.reqs', 'disk_rd_req'],
  ['rd_bytes', 'rd.bytes', 'disk_rd_bytes'],
  ['wr_reqs', 'wr.reqs', 'disk_wr_reqs'],
  ['wr_bytes', 'wr.bytes', 'disk_wr_bytes'],
  ['errors', 'errors', 'disk_errors'],
];

function big(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  return undefined;
}

/** Sums device counters into the seed's totals; a total is present only if some device reported it. */
function devices<K extends string>(
  p: StatParams,
  group: 'net' | 'block',
  fields: [K, string, MetricName][],
  metrics: MappedStats['metrics'],
): ({ name: string } & Record<K, bigint> & { present: Set<K> })[] {
  const count = Number(p[`${group}.count`] ?? 0);
  const out = [];
  for (let i = 0; i < count; i++) {
    const dev = { name: String(p[`${group}.${i}.name`] ?? `${group}${i}`), present: new Set<K>() } as { name: string } & Record<K, bigint> & {
      present: Set<K>;
    };
    for (const [field, key, metric] of fields) {
      const v = big(p[`${group}.${i}.${key}`]);
      // libvirt reports "not supported" counters as -1 in some drivers
      if (v === undefined || v < 0n) continue;
      (dev as Record<K, bigint>)[field] = v;
      dev.present.add(field);
      metrics[metric] = (metrics[metric] ?? 0n) + v;
    }
    out.push(dev);
  }
  return out;
}

export function mapStats(p: StatParams): MappedStats {
  const metrics: MappedStats['metrics'] = {};
  for (const [metric, key] of SCALAR) {
    const v = big(p[key]);
    if (v !== undefined && v >= 0n) metrics[metric] = v;
  }
  const nics = devices(p, 'net', NIC, metrics).map(({ present: _p, ...n }) => ({ ...zeroNic(), ...n }) as NicSample);
  const disks = devices(p, 'block', DISK, metrics).map(({ present: _p, ...d }, i) => {
    const disk = { ...zeroDisk(), ...d } as DiskSample;
    const allocation = big(p[`block.${i}.allocation`]);
    const capacity = big(p[`block.${i}.capacity`]);
    if (allocation !== undefined) disk.allocation = allocation;
    if (capacity !== undefined) disk.capacity = capacity;
    return disk;
  });
  const vcpus = p['vcpu.current'];
  return { metrics, nics, disks, ...(typeof vcpus === 'number' ? { cpus: vcpus } : {}) };
}

const zeroNic = () => ({ rxbytes: 0n, rxpackets: 0n, rxerrors: 0n, rxdrops: 0n, txbytes: 0n, txpackets: 0n, txerrors: 0n, txdrops: 0n });
const zeroDisk = () => ({ rd_req: 0n, rd_bytes: 0n, wr_reqs: 0n, wr_bytes: 0n, errors: 0n });
