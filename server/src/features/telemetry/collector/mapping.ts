// libvirt stats params (bulk virConnectGetAllDomainStats or our per-call batch: same keys)
// → the seed's metrics. Pure, unit-tested.
import { statsKeySlot } from '../../../libvirt/stats-table.js';
import type { StatValue } from '../../../libvirt/types.js';
import { METRIC_INDEX, METRIC_NAMES, type MetricName } from '../../../domain/metrics.js';
import type { DiskSample, NicSample } from '../../../domain/snapshot.js';
import { DISK_COUNTERS, DISK_LIBVIRT_COUNTERS, DISK_ZEROED, DiskRecord, NIC_COUNTERS, NicRecord } from './device-records.js';
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

/** each NIC counter's libvirt leaf and the metric it adds to */
const NIC_FIELDS: Record<(typeof NIC_COUNTERS)[number], [string, MetricName]> = {
  rxbytes: ['rx.bytes', 'net_rxbytes'],
  rxpackets: ['rx.pkts', 'net_rxpackets'],
  rxerrors: ['rx.errs', 'net_rxerrors'],
  rxdrops: ['rx.drop', 'net_rxdrops'],
  txbytes: ['tx.bytes', 'net_txbytes'],
  txpackets: ['tx.pkts', 'net_txpackets'],
  txerrors: ['tx.errs', 'net_txerrors'],
  txdrops: ['tx.drop', 'net_txdrops'],
};

/** each disk field's libvirt leaf and the metric it adds to (the sizes add to none) */
const DISK_FIELDS: Record<(typeof DISK_COUNTERS)[number], [string, MetricName | null]> = {
  rd_req: ['rd.reqs', 'disk_rd_req'],
  rd_bytes: ['rd.bytes', 'disk_rd_bytes'],
  wr_reqs: ['wr.reqs', 'disk_wr_reqs'],
  wr_bytes: ['wr.bytes', 'disk_wr_bytes'],
  errors: ['errors', 'disk_errors'],
  allocation: ['allocation', null],
  capacity: ['capacity', null],
};

// In the order the records take their values; each metric by its METRIC_NAMES index (the order a
// MetricRecord takes its values in), -1: none.
const SCALAR = SCALAR_KEYS.map(([m, key]) => [METRIC_INDEX[m], statsKeySlot(key)] as const);
const NIC = NIC_COUNTERS.map((f) => [NIC_FIELDS[f][0], METRIC_INDEX[NIC_FIELDS[f][1]]] as const);
const DISK = [
  ...DISK_COUNTERS.map((f) => {
    const [key, m] = DISK_FIELDS[f];
    return [key, m === null ? -1 : METRIC_INDEX[m]] as const;
  }),
  ...DISK_LIBVIRT_COUNTERS.map((key) => [key, -1] as const),
];

/** Adds a device's counter to a total: a double while the total stays exact as one, a BigInt past that. */
function addTo(sums: (bigint | number | undefined)[], metric: number, v: number | bigint): void {
  const sum = sums[metric];
  if (sum === undefined) sums[metric] = v;
  // both ≥ 0, so a sum ≤ 2^53 − 1 is exact
  else if (typeof sum === 'number' && typeof v === 'number' && sum + v <= Number.MAX_SAFE_INTEGER) sums[metric] = sum + v;
  else sums[metric] = BigInt(sum) + BigInt(v);
}

// "net.3.rx.bytes" and the like, numbered (statsKeySlot) once per device index and field, not
// built once per VM per tick; one cache per field.
function deviceSlot(keys: number[], group: string, i: number, leaf: string): number {
  keys[i] ??= statsKeySlot(`${group}.${i}.${leaf}`);
  return keys[i];
}
const NIC_KEYS = NIC.map((): number[] => []);
const DISK_KEYS = DISK.map((): number[] => []);
const NAME_KEYS = { net: [] as number[], block: [] as number[] };
const PATH_KEYS: number[] = [];
const COUNT_KEYS = { net: statsKeySlot('net.count'), block: statsKeySlot('block.count') };
const VCPUS_KEY = statsKeySlot('vcpu.current');
const deviceScratch = new Array<bigint | number | undefined>(Math.max(NIC.length, DISK.length));

/**
 * A group's devices, each a `DeviceRecord` made from its name and its fields' values (the first `zeroed`
 * read 0 when not reported), and their counters summed into the seed's totals (`sums`, by metric
 * index; a total is present only if some device reported it).
 */
function devices<S>(
  row: StatsRow,
  group: 'net' | 'block',
  fields: readonly (readonly [string, number])[],
  fieldKeys: number[][],
  zeroed: number,
  sums: (bigint | number | undefined)[],
  DeviceRecord: new (name: string, values: readonly (bigint | number | undefined)[], path?: string) => S,
): S[] {
  const count = Number(row.get(COUNT_KEYS[group]) ?? 0);
  const out: S[] = [];
  for (let i = 0; i < count; i++) {
    const name = row.get(deviceSlot(NAME_KEYS[group], group, i, 'name'));
    const values = deviceScratch.fill(undefined);
    for (let f = 0; f < fields.length; f++) {
      const [key, metric] = fields[f]!;
      const v = row.counter(deviceSlot(fieldKeys[f]!, group, i, key));
      if (v === undefined) {
        if (f < zeroed) values[f] = 0;
        continue;
      }
      values[f] = v;
      if (metric >= 0) addTo(sums, metric, v);
    }
    const path = group === 'block' ? row.get(deviceSlot(PATH_KEYS, group, i, 'path')) : undefined;
    out.push(new DeviceRecord(name === undefined ? `${group}${i}` : String(name), values, typeof path === 'string' ? path : undefined));
  }
  return out;
}

/** A stats record read by libvirt key, the key by its number (statsKeySlot): a row of a StatsTable (merged with another's, see the collector's loop), or a plain record (test/plain-row.ts). */
export interface StatsRow {
  /** the value (undefined: not reported) */
  get(slot: number): StatValue | undefined;
  /** a counter: its exact double where there is one (no BigInt made), its BigInt past 2^53 − 1; undefined when not reported or negative (lib/counts.ts countOf) */
  counter(slot: number): number | bigint | undefined;
}

const scratch = new Array<bigint | number | undefined>(METRIC_NAMES.length);

/** A stats record's metrics, NICs and disks. */
export function mapStatsOf(row: StatsRow): MappedStats {
  // One scratch array for every call (mapping is synchronous): the values, then one record of them.
  const values = scratch.fill(undefined);
  for (const [metric, key] of SCALAR) values[metric] = row.counter(key);
  const nics = devices(row, 'net', NIC, NIC_KEYS, NIC.length, values, NicRecord);
  const disks = devices(row, 'block', DISK, DISK_KEYS, DISK_ZEROED, values, DiskRecord);
  const metrics = new MetricRecord(values);
  const vcpus = row.get(VCPUS_KEY);
  return typeof vcpus === 'number' ? { metrics, nics, disks, cpus: vcpus } : { metrics, nics, disks };
}
