// The seed's metric table (seed 000): names kept exactly, with their units and how each is shown.
import { formatBytes, formatCount, formatKiB, formatNsAsSeconds } from './format';

export type MetricUnit = 'ns' | 'KB' | 'bytes' | 'pages' | 'count' | 'packets' | 'requests' | 'vCPUs' | 'state';

export interface MetricDef {
  name: string;
  unit: MetricUnit;
  group: 'CPU' | 'Memory' | 'Network' | 'Disk';
  description: string;
}

export const SEED_METRICS = [
  { name: 'state', unit: 'state', group: 'CPU', description: 'VM state' },
  { name: 'cpus', unit: 'vCPUs', group: 'CPU', description: 'virtual CPUs' },
  { name: 'cputime', unit: 'ns', group: 'CPU', description: 'CPU time, all vCPUs' },
  { name: 'timeusr', unit: 'ns', group: 'CPU', description: 'CPU time spent in user mode' },
  { name: 'timesys', unit: 'ns', group: 'CPU', description: 'CPU time spent in system/kernel mode' },
  { name: 'memactual', unit: 'KB', group: 'Memory', description: 'Physical memory currently used by VM' },
  { name: 'memrss', unit: 'KB', group: 'Memory', description: 'Resident set size (memory in RAM)' },
  { name: 'memavailable', unit: 'KB', group: 'Memory', description: 'Memory available for allocation' },
  { name: 'memusable', unit: 'KB', group: 'Memory', description: 'Memory actually usable by VM' },
  { name: 'memswap_in', unit: 'pages', group: 'Memory', description: 'Pages swapped from disk to RAM' },
  { name: 'memswap_out', unit: 'pages', group: 'Memory', description: 'Pages swapped from RAM to disk' },
  { name: 'memmajor_fault', unit: 'count', group: 'Memory', description: 'Major page faults (required disk read)' },
  { name: 'memminor_fault', unit: 'count', group: 'Memory', description: 'Minor page faults (in-memory)' },
  { name: 'memdisk_cache', unit: 'KB', group: 'Memory', description: 'Disk cache used by VM' },
  { name: 'net_rxbytes', unit: 'bytes', group: 'Network', description: 'Total bytes received on all interfaces' },
  { name: 'net_rxpackets', unit: 'packets', group: 'Network', description: 'Total packets received on all interfaces' },
  { name: 'net_rxerrors', unit: 'count', group: 'Network', description: 'RX errors on all interfaces' },
  { name: 'net_rxdrops', unit: 'count', group: 'Network', description: 'RX dropped packets on all interfaces' },
  { name: 'net_txbytes', unit: 'bytes', group: 'Network', description: 'Total bytes transmitted on all interfaces' },
  { name: 'net_txpackets', unit: 'packets', group: 'Network', description: 'Total packets transmitted on all interfaces' },
  { name: 'net_txerrors', unit: 'count', group: 'Network', description: 'TX errors on all interfaces' },
  { name: 'net_txdrops', unit: 'count', group: 'Network', description: 'TX dropped packets on all interfaces' },
  { name: 'disk_rd_req', unit: 'requests', group: 'Disk', description: 'Total disk read requests' },
  { name: 'disk_rd_bytes', unit: 'bytes', group: 'Disk', description: 'Total bytes read from disk' },
  { name: 'disk_wr_reqs', unit: 'requests', group: 'Disk', description: 'Total disk write requests' },
  { name: 'disk_wr_bytes', unit: 'bytes', group: 'Disk', description: 'Total bytes written to disk' },
  { name: 'disk_errors', unit: 'count', group: 'Disk', description: 'Total disk I/O errors' },
] as const satisfies readonly MetricDef[];

export type SeedMetricName = (typeof SEED_METRICS)[number]['name'];

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
