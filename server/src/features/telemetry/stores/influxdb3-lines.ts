// MetricSnapshot → InfluxDB 3 line protocol.
//
// Table layout. Every table is tagged `host` (hypervisor host name), `domain_name` (libvirt domain name)
// and `vm_id` (vmpulse's numeric VM id, as a tag string). Timestamps: integer ms since the epoch, written
// with precision=ms. Integers carry the `i` suffix and are exact (BigInt → decimal digits, no 2^53 loss).
// A metric the hypervisor did not report is left out of the line, never written as 0.
//
// Telegraf `inputs.libvirt` tables (same table, tag and field names, so Telegraf dashboards keep working):
//   libvirt_state       state (int, virDomainState: 0 nostate, 1 running, 2 blocked, 3 paused,
//                       4 shutdown, 5 shutoff, 6 crashed, 7 pmsuspended)
//   libvirt_cpu         time, user, system (int, ns)
//   libvirt_balloon     current, maximum, swap_in, swap_out, major_fault, minor_fault, available,
//                       usable, rss, disk_caches (int; KiB except faults; swap as libvirt reports it)
//   libvirt_vcpu_total  current (int, vCPUs)
//   libvirt_net_total   count (int)
//   libvirt_net         + tag interface_id (0-based index); name (string), rx_bytes, rx_pkts, rx_errs,
//                       rx_drop, tx_bytes, tx_pkts, tx_errs, tx_drop (int)
//   libvirt_block_total count (int)
//   libvirt_block       + tag block_id (0-based index); name (string), rd_reqs, rd_bytes, wr_reqs,
//                       wr_bytes, errors, allocation, capacity (int)
// Telegraf tables are written only for fresh samples: a stale snapshot repeats old counters, which
// Telegraf itself would never emit.
//
// vmpulse wide table `vmpulse_vm` (one row per VM per tick; what history() and latestValues() read):
//   <metric>            the 25 seed metrics under their exact names (int, seed units)
//   cpus, memory_max    int (vCPUs; KB)
//   state               string ("running", "shutoff", …)
//   <metric>_rate       float, per second (counters only)
//   <metric>_angle_deg  float, seed 001 feature: atan(rate) in degrees
//   cpu_pct, cpu_user_pct, cpu_system_pct, mem_pct   float, % (absent when unknown)
//   stale               boolean; age_ms int (age of the values when stale)
//   uuid, error         string (error only when the tick could not sample the VM)
// Lines per VM per tick: 7 + NICs + disks (fresh), 1 (stale).
import type { MetricName } from '../../../domain/metrics.js';
import { METRIC_NAMES } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { domainStateCode } from '../../../domain/vm-state.js';
import { escapeKey, quoteString } from './influxdb3-line-protocol.js';

export const WIDE_TABLE = 'vmpulse_vm';


// `current` (memactual) and `maximum` (the domain's maximum) are written first, apart.
const BALLOON: [string, MetricName][] = [
  ['swap_in', 'memswap_in'], ['swap_out', 'memswap_out'],
  ['major_fault', 'memmajor_fault'], ['minor_fault', 'memminor_fault'], ['available', 'memavailable'],
  ['usable', 'memusable'], ['rss', 'memrss'], ['disk_caches', 'memdisk_cache'],
];

// Hot path (1,000 VMs per tick): field keys are fixed identifiers needing no escaping, the tag set is
// escaped once per VM and shared by its lines, and each line is built as one string.
const RATE_KEYS = METRIC_NAMES.map((m) => [m, `${m}_rate`, `${m}_angle_deg`] as const);

let fields = '';
function int(key: string, v: bigint | undefined): void {
  if (v !== undefined) fields += `,${key}=${v}i`;
}
function float(key: string, v: number | null | undefined): void {
  if (v !== undefined && v !== null && Number.isFinite(v)) fields += `,${key}=${v}`;
}
function str(key: string, v: string | undefined): void {
  if (v !== undefined) fields += `,${key}=${quoteString(v)}`;
}
function emit(out: string[], head: string, ts: number): void {
  if (fields) out.push(`${head} ${fields.slice(1)} ${ts}`);
  fields = '';
}

/** Appends the snapshot's lines to `out` (one array per tick avoids per-VM allocations). */
export function snapshotLines(s: MetricSnapshot, out: string[] = []): string[] {
  const ts = Math.trunc(s.ts);
  // Tag values may not be empty in line protocol: an unknown name or host leaves its tag out.
  const name = s.vmName ? `,domain_name=${escapeKey(s.vmName)}` : '';
  const host = s.hostName ? `,host=${escapeKey(s.hostName)}` : '';
  const vm = `,vm_id=${s.vmId}`;
  const tags = `${name}${host}${vm}`; // starts with a comma
  const m = s.metrics;

  fields = '';
  str('state', s.state);
  int('cpus', BigInt(s.cpus));
  for (const metric of METRIC_NAMES) int(metric, m[metric]);
  int('memory_max', s.memoryMax);
  for (const [metric, rateKey, angleKey] of RATE_KEYS) {
    float(rateKey, s.rates[metric]);
    float(angleKey, s.angles[metric]);
  }
  float('cpu_pct', s.cpuPct.total);
  float('cpu_user_pct', s.cpuPct.user);
  float('cpu_system_pct', s.cpuPct.system);
  float('mem_pct', s.memPct);
  fields += `,stale=${s.stale ? 't' : 'f'}`;
  int('age_ms', BigInt(Math.trunc(s.ageMs)));
  str('uuid', s.uuid || undefined);
  str('error', s.error);
  emit(out, `${WIDE_TABLE}${tags}`, ts);
  if (s.stale) return out;

  const code = domainStateCode(s.state);
  if (code !== undefined) fields = `,state=${code}i`;
  emit(out, `libvirt_state${tags}`, ts);
  int('time', m.cputime);
  int('user', m.timeusr);
  int('system', m.timesys);
  emit(out, `libvirt_cpu${tags}`, ts);
  int('current', m.memactual);
  int('maximum', s.memoryMax);
  for (const [field, metric] of BALLOON) int(field, m[metric]);
  emit(out, `libvirt_balloon${tags}`, ts);
  int('current', BigInt(s.cpus));
  emit(out, `libvirt_vcpu_total${tags}`, ts);

  fields = `,count=${s.nics.length}i`;
  emit(out, `libvirt_net_total${tags}`, ts);
  for (let i = 0; i < s.nics.length; i++) {
    const n = s.nics[i]!;
    str('name', n.name);
    int('rx_bytes', n.rxbytes); int('rx_pkts', n.rxpackets); int('rx_errs', n.rxerrors); int('rx_drop', n.rxdrops);
    int('tx_bytes', n.txbytes); int('tx_pkts', n.txpackets); int('tx_errs', n.txerrors); int('tx_drop', n.txdrops);
    emit(out, `libvirt_net${name}${host},interface_id=${i}${vm}`, ts);
  }

  fields = `,count=${s.disks.length}i`;
  emit(out, `libvirt_block_total${tags}`, ts);
  for (let i = 0; i < s.disks.length; i++) {
    const d = s.disks[i]!;
    str('name', d.name);
    int('rd_reqs', d.rd_req); int('rd_bytes', d.rd_bytes); int('wr_reqs', d.wr_reqs); int('wr_bytes', d.wr_bytes);
    int('errors', d.errors); int('allocation', d.allocation); int('capacity', d.capacity);
    emit(out, `libvirt_block,block_id=${i}${tags}`, ts);
  }
  return out;
}

/** The wide row is the one line per snapshot: counting acknowledged wide lines counts written snapshots. */
export const isSnapshotLine = (line: string): boolean => line.startsWith(`${WIDE_TABLE},`);
