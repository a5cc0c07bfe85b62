// The seed's metric table (seed 000) as the VM page shows it. Names, order and units come from the
// server's domain (one definition for both); this file adds only how the page groups and describes them.
import { METRIC_NAMES, METRIC_UNITS, type MetricName, type MetricUnit as SeedUnit } from '@vmpulse/domain/metrics';
import { formatBytes, formatCount, formatKiB, formatNsAsSeconds } from './format';

/** The seed's units, plus the two rows that are not counters: the vCPU count and the state. */
export type MetricUnit = SeedUnit | 'vCPUs' | 'state';

type Group = 'CPU' | 'Memory' | 'Network' | 'Disk';

export interface MetricDef {
  name: string;
  unit: MetricUnit;
  group: Group;
  description: string;
}

/** Group and description of each seed metric (descriptions as the seed's field reference words them). */
const SHOWN: Readonly<Record<MetricName, { group: Group; description: string }>> = {
  cputime: { group: 'CPU', description: 'CPU time, all vCPUs' },
  timeusr: { group: 'CPU', description: 'CPU time spent in user mode' },
  timesys: { group: 'CPU', description: 'CPU time spent in system/kernel mode' },
  memactual: { group: 'Memory', description: 'Physical memory currently used by VM' },
  memrss: { group: 'Memory', description: 'Resident set size (memory in RAM)' },
  memavailable: { group: 'Memory', description: 'Memory available for allocation' },
  memusable: { group: 'Memory', description: 'Memory actually usable by VM' },
  memswap_in: { group: 'Memory', description: 'Pages swapped from disk to RAM' },
  memswap_out: { group: 'Memory', description: 'Pages swapped from RAM to disk' },
  memmajor_fault: { group: 'Memory', description: 'Major page faults (required disk read)' },
  memminor_fault: { group: 'Memory', description: 'Minor page faults (in-memory)' },
  memdisk_cache: { group: 'Memory', description: 'Disk cache used by VM' },
  net_rxbytes: { group: 'Network', description: 'Total bytes received on all interfaces' },
  net_rxpackets: { group: 'Network', description: 'Total packets received on all interfaces' },
  net_rxerrors: { group: 'Network', description: 'RX errors on all interfaces' },
  net_rxdrops: { group: 'Network', description: 'RX dropped packets on all interfaces' },
  net_txbytes: { group: 'Network', description: 'Total bytes transmitted on all interfaces' },
  net_txpackets: { group: 'Network', description: 'Total packets transmitted on all interfaces' },
  net_txerrors: { group: 'Network', description: 'TX errors on all interfaces' },
  net_txdrops: { group: 'Network', description: 'TX dropped packets on all interfaces' },
  disk_rd_req: { group: 'Disk', description: 'Total disk read requests' },
  disk_rd_bytes: { group: 'Disk', description: 'Total bytes read from disk' },
  disk_wr_reqs: { group: 'Disk', description: 'Total disk write requests' },
  disk_wr_bytes: { group: 'Disk', description: 'Total bytes written to disk' },
  disk_errors: { group: 'Disk', description: 'Total disk I/O errors' },
};

/** Every row of the table: the state, the vCPU count, then the seed's metrics in the domain's order. */
export const SEED_METRICS: readonly MetricDef[] = [
  { name: 'state', unit: 'state', group: 'CPU', description: 'VM state' },
  { name: 'cpus', unit: 'vCPUs', group: 'CPU', description: 'virtual CPUs' },
  ...METRIC_NAMES.map((name) => ({ name, unit: METRIC_UNITS[name], ...SHOWN[name] })),
];

/** A metric's value as people read it; a missing one is "N/A". */
export function formatMetric(unit: MetricUnit, value: string | number | null | undefined): string {
  switch (unit) {
    case 'ns':
      return formatNsAsSeconds(value);
    case 'KB':
      return formatKiB(value);
    case 'bytes':
      return formatBytes(value);
    case 'state':
      return value === null || value === undefined || value === '' ? 'N/A' : String(value);
    default:
      return formatCount(value);
  }
}
