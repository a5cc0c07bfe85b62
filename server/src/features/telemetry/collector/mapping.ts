// libvirt stats params (bulk virConnectGetAllDomainStats or our per-call batch: same keys)
// → the seed's metrics. Pure, unit-tested.
import type { StatValue } from '../../../libvirt/types.js';
import { METRIC_INDEX, METRIC_NAMES, type MetricName } from '../../../domain/metrics.js';
import type { DiskSample, NicSample } from '../../../domain/snapshot.js';
import { MetricRecord } from './metric-record.js';

export interface MappedStats {
  metrics: Partial<Record<MetricName, bigint>>;
  nics: NicSample[];
  disks: DiskSample[];
  /** vCPUs in use, when the stats say */
  cpus?: number;
}

const SCALAR_KEYS: [MetricName, string][] = [
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

const NIC_FIELDS: [keyof NicSample & string, string, MetricName][] = [
  ['rxbytes', 'rx.bytes', 'net_rxbytes'],
  ['rxpackets', 'rx.pkts', 'net_rxpackets'],
  ['rxerrors', 'rx.errs', 'net_rxerrors'],
  ['rxdrops', 'rx.drop', 'net_rxdrops'],
  ['txbytes', 'tx.bytes', 'net_txbytes'],
  ['txpackets', 'tx.pkts', 'net_txpackets'],
  ['txerrors', 'tx.errs', 'net_txerrors'],
  ['txdrops', 'tx.drop', 'net_txdrops'],
];

const DISK_FIELDS: [keyof DiskSample & string, string, MetricName][] = [
  ['rd_req', 'rd.reqs', 'disk_rd_req'],
  ['rd_bytes', 'rd.bytes', 'disk_rd_bytes'],
  ['wr_reqs', 'wr.reqs', 'disk_wr_reqs'],
  ['wr_bytes', 'wr.bytes', 'disk_wr_bytes'],
  ['errors', 'errors', 'disk_errors'],
];

// Each metric by its index in METRIC_NAMES (the order a MetricRecord takes its values in).
const SCALAR = SCALAR_KEYS.map(([m, key]) => [METRIC_INDEX[m], key] as const);
const NIC = NIC_FIELDS.map(([field, key, m]) => [field, key, METRIC_INDEX[m]] as const);
const DISK = DISK_FIELDS.map(([field, key, m]) => [field, key, METRIC_INDEX[m]] as const);

function big(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  return undefined;
}

/** Adds a device's counter to a total: a double while the total stays exact as one, a BigInt past that. */
function addTo(sums: (bigint | number | undefined)[], metric: number, v: bigint): void {
  const x = Number(v);
  const sum = sums[metric];
  if (sum === undefined) sums[metric] = x <= Number.MAX_SAFE_INTEGER ? x : v;
  // sum ≥ 0, so x + sum ≤ 2^53 − 1 means both are exact, and so is their sum
  else if (typeof sum === 'number' && x + sum <= Number.MAX_SAFE_INTEGER) sums[metric] = sum + x;
  else sums[metric] = BigInt(sum) + v;
}

// "net.3.rx.bytes" and the like, built once per device index and field (not once per VM per tick:
// a fresh string is also a slower property lookup than an internalized one); one cache per field.
function keyOf(keys: string[], group: string, i: number, leaf: string): string {
  keys[i] ??= `${group}.${i}.${leaf}`;
  return keys[i];
}
const NIC_KEYS = NIC.map((): string[] => []);
const DISK_KEYS = DISK.map((): string[] => []);
const NAME_KEYS = { net: [] as string[], block: [] as string[] };
const ALLOCATION_KEYS: string[] = [];
const CAPACITY_KEYS: string[] = [];

/** Sums device counters into the seed's totals (`sums`, by metric index); a total is present only if some device reported it. */
function devices<S extends { name: string }>(
  row: StatsRow,
  group: 'net' | 'block',
  fields: readonly (readonly [keyof S & string, string, number])[],
  fieldKeys: string[][],
  sums: (bigint | number | undefined)[],
  zero: () => S,
): S[] {
  const count = Number(row.get(`${group}.count`) ?? 0);
  const out: S[] = [];
  for (let i = 0; i < count; i++) {
    const dev = zero();
    const name = row.get(keyOf(NAME_KEYS[group], group, i, 'name'));
    dev.name = name === undefined ? `${group}${i}` : String(name);
    for (let f = 0; f < fields.length; f++) {
      const [field, key, metric] = fields[f]!;
      const v = big(row.get(keyOf(fieldKeys[f]!, group, i, key)));
      // libvirt reports "not supported" counters as -1 in some drivers
      if (v === undefined || v < 0n) continue;
      (dev as Record<string, unknown>)[field] = v;
      addTo(sums, metric, v);
    }
    out.push(dev);
  }
  return out;
}

/** A stats record read by libvirt key: a row of a StatsTable (merged with another's, see the collector's loop), or a plain record (test/plain-row.ts). */
export interface StatsRow {
  /** the value (undefined: not reported) */
  get(key: string): StatValue | undefined;
  /** the value when it is a non-negative integer a double holds exactly, else NaN (not reported, or read get()) */
  number(key: string): number;
}

const scratch = new Array<bigint | number | undefined>(METRIC_NAMES.length);

/** A stats record's metrics, NICs and disks. */
export function mapStatsOf(row: StatsRow): MappedStats {
  // One scratch array for every call (mapping is synchronous): the values, then one record of them.
  // A value is taken as the exact double the table holds where there is one: no BigInt made.
  const values = scratch.fill(undefined);
  for (const [metric, key] of SCALAR) {
    const x = row.number(key);
    if (x >= 0) {
      values[metric] = x;
      continue;
    }
    const v = big(row.get(key));
    if (v !== undefined && v >= 0n) values[metric] = v;
  }
  const nics = devices<NicSample>(row, 'net', NIC, NIC_KEYS, values, zeroNic);
  const disks = devices<DiskSample>(row, 'block', DISK, DISK_KEYS, values, zeroDisk);
  for (let i = 0; i < disks.length; i++) {
    const allocation = big(row.get(keyOf(ALLOCATION_KEYS, 'block', i, 'allocation')));
    const capacity = big(row.get(keyOf(CAPACITY_KEYS, 'block', i, 'capacity')));
    if (allocation !== undefined) disks[i]!.allocation = allocation;
    if (capacity !== undefined) disks[i]!.capacity = capacity;
  }
  const metrics = new MetricRecord(values);
  const vcpus = row.get('vcpu.current');
  return typeof vcpus === 'number' ? { metrics, nics, disks, cpus: vcpus } : { metrics, nics, disks };
}
// Zeros for what a device does not report; `name` last, as the samples have always listed it.
const zeroNic = (): NicSample => ({ rxbytes: 0n, rxpackets: 0n, rxerrors: 0n, rxdrops: 0n, txbytes: 0n, txpackets: 0n, txerrors: 0n, txdrops: 0n, name: '' });
const zeroDisk = (): DiskSample => ({ rd_req: 0n, rd_bytes: 0n, wr_reqs: 0n, wr_bytes: 0n, errors: 0n, name: '' });
