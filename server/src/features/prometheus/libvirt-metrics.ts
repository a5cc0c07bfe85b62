// The VM part of /metrics under the names, labels, types, help and units of Debian's
// prometheus-libvirt-exporter (kumina libvirt_exporter 0.2.0, libvirt_exporter.go), rendered from
// the latest snapshots the telemetry feature holds: no libvirt call per scrape.
//
// Which VMs: the caller hands the snapshots (all of them today; with tenancy, those its token may
// see). A snapshot's lines are built once and kept while it is the VM's latest (a WeakMap keyed by
// the snapshot object, which the collector replaces every tick), so N scrapes in one tick cost one
// build per VM plus string joins. The labels the stats lack (source_file, source_bridge) come from
// the domain XML, read in the background (device-labels.ts). Counters are exact: BigInt written as integers, ns as exact
// decimal seconds.
import type { DiskLibvirtLeaf, MetricSnapshot } from '../../domain/snapshot.js';
import { INACTIVE_STATES, domainStateCode } from '../../domain/vm-state.js';
import type { DeviceLabels } from './device-labels.js';
import { yieldToEventLoop } from '../../lib/yield.js';
import { familyHeader, labelSet, nsToSeconds, type Family, type Format } from './exposition.js';

const B = 'libvirt_domain_block_stats_';
const I = 'libvirt_domain_interface_stats_';

/** The per-VM families, in the exporter's (client_golang's) order: sorted by name. */
const VM_FAMILIES = [
  { name: `${B}flush_requests_total`, type: 'counter', help: 'Number of flush requests from a block device.' },
  { name: `${B}flush_seconds_total`, type: 'counter', help: 'Amount of time spent flushing of a block device, in seconds.' },
  { name: `${B}read_bytes_total`, type: 'counter', help: 'Number of bytes read from a block device, in bytes.' },
  { name: `${B}read_requests_total`, type: 'counter', help: 'Number of read requests from a block device.' },
  { name: `${B}read_seconds_total`, type: 'counter', help: 'Amount of time spent reading from a block device, in seconds.' },
  { name: `${B}write_bytes_total`, type: 'counter', help: 'Number of bytes written from a block device, in bytes.' },
  { name: `${B}write_requests_total`, type: 'counter', help: 'Number of write requests from a block device.' },
  { name: `${B}write_seconds_total`, type: 'counter', help: 'Amount of time spent writing from a block device, in seconds.' },
  { name: 'libvirt_domain_info_cpu_time_seconds_total', type: 'counter', help: 'Amount of CPU time used by the domain, in seconds.' },
  { name: 'libvirt_domain_info_maximum_memory_bytes', type: 'gauge', help: 'Maximum allowed memory of the domain, in bytes.' },
  { name: 'libvirt_domain_info_memory_usage_bytes', type: 'gauge', help: 'Memory usage of the domain, in bytes.' },
  { name: 'libvirt_domain_info_virtual_cpus', type: 'gauge', help: 'Number of virtual CPUs for the domain.' },
  { name: `${I}receive_bytes_total`, type: 'counter', help: 'Number of bytes received on a network interface, in bytes.' },
  { name: `${I}receive_drops_total`, type: 'counter', help: 'Number of packet receive drops on a network interface.' },
  { name: `${I}receive_errors_total`, type: 'counter', help: 'Number of packet receive errors on a network interface.' },
  { name: `${I}receive_packets_total`, type: 'counter', help: 'Number of packets received on a network interface.' },
  { name: `${I}transmit_bytes_total`, type: 'counter', help: 'Number of bytes transmitted on a network interface, in bytes.' },
  { name: `${I}transmit_drops_total`, type: 'counter', help: 'Number of packet transmit drops on a network interface.' },
  { name: `${I}transmit_errors_total`, type: 'counter', help: 'Number of packet transmit errors on a network interface.' },
  { name: `${I}transmit_packets_total`, type: 'counter', help: 'Number of packets transmitted on a network interface.' },
  { name: 'libvirt_domain_state_code', type: 'gauge', help: 'State of the domain.' },
] as const satisfies readonly Family[];

type FamilyName = (typeof VM_FAMILIES)[number]['name'];
const INDEX = Object.fromEntries(VM_FAMILIES.map((f, i) => [f.name, i])) as Record<FamilyName, number>;

const UP_FAMILY: Family = { name: 'libvirt_up', type: 'gauge', help: "Whether scraping libvirt's metrics was successful." };
const DOMAINS_FAMILY: Family = { name: 'libvirt_domains_number', type: 'gauge', help: 'Number of domains.' };

/** libvirt's block fields → family, for the fields DiskSample lists only through its `libvirt` method. */
const BLOCK_LIBVIRT: readonly [DiskLibvirtLeaf, FamilyName, 'count' | 'ns'][] = [
  ['fl.reqs', `${B}flush_requests_total`, 'count'],
  ['fl.times', `${B}flush_seconds_total`, 'ns'],
  ['rd.times', `${B}read_seconds_total`, 'ns'],
  ['wr.times', `${B}write_seconds_total`, 'ns'],
];

const KIB = 1024n;

/** One VM's sample lines, one string per family of VM_FAMILIES ('' where it has none). */
function vmLines(s: MetricSnapshot, devices: DeviceLabels | undefined): string[] {
  const lines: string[][] = VM_FAMILIES.map(() => []);
  const add = (family: FamilyName, labels: string, value: string) => {
    lines[INDEX[family]]!.push(`${family}${labels} ${value}\n`);
  };
  // client_golang writes label names sorted: domain, source_*, target_device, uuid.
  const vm = labelSet([['domain', s.vmName], ['uuid', s.uuid]]);
  add('libvirt_domain_state_code', vm, String(domainStateCode(s.state)));
  add('libvirt_domain_info_maximum_memory_bytes', vm, String(s.memoryMax * KIB));
  if (s.metrics.memactual !== undefined) add('libvirt_domain_info_memory_usage_bytes', vm, String(s.metrics.memactual * KIB));
  add('libvirt_domain_info_virtual_cpus', vm, String(s.cpus));
  if (s.metrics.cputime !== undefined) add('libvirt_domain_info_cpu_time_seconds_total', vm, nsToSeconds(s.metrics.cputime));

  for (const d of s.disks) {
    if (devices?.skipped.has(d.name)) continue;
    // The domain XML's source file once read; until then the bulk stats' path (QEMU has it).
    const path = devices?.files.get(d.name) ?? d.libvirt?.('path');
    const labels = labelSet([['domain', s.vmName], ['source_file', typeof path === 'string' ? path : ''], ['target_device', d.name], ['uuid', s.uuid]]);
    add(`${B}read_bytes_total`, labels, String(d.rd_bytes));
    add(`${B}read_requests_total`, labels, String(d.rd_req));
    add(`${B}write_bytes_total`, labels, String(d.wr_bytes));
    add(`${B}write_requests_total`, labels, String(d.wr_reqs));
    // Times and flushes only where libvirt reports them (QEMU does; the test driver does not).
    for (const [leaf, family, unit] of BLOCK_LIBVIRT) {
      const v = d.libvirt?.(leaf);
      if (typeof v === 'bigint') add(family, labels, unit === 'ns' ? nsToSeconds(v) : String(v));
    }
  }
  for (const n of s.nics) {
    const labels = labelSet([['domain', s.vmName], ['source_bridge', devices?.bridges.get(n.name) ?? ''], ['target_device', n.name], ['uuid', s.uuid]]);
    add(`${I}receive_bytes_total`, labels, String(n.rxbytes));
    add(`${I}receive_drops_total`, labels, String(n.rxdrops));
    add(`${I}receive_errors_total`, labels, String(n.rxerrors));
    add(`${I}receive_packets_total`, labels, String(n.rxpackets));
    add(`${I}transmit_bytes_total`, labels, String(n.txbytes));
    add(`${I}transmit_drops_total`, labels, String(n.txdrops));
    add(`${I}transmit_errors_total`, labels, String(n.txerrors));
    add(`${I}transmit_packets_total`, labels, String(n.txpackets));
  }
  // Flat strings (join), so the scrape's own join only copies them.
  return lines.map((l) => l.join(''));
}

export interface LibvirtRenderOptions {
  format: Format;
  /** ms since the epoch */
  now: number;
  /** a snapshot older than this is not served as fresh (the collector stopped, a host hangs) */
  staleAfterMs: number;
  /** every host connected and its last tick read: `libvirt_up` 1, else 0 */
  up: boolean;
}

/** VMs whose lines are built between two yields */
const RENDER_CHUNK = 100;
/** families joined between two yields */
const FAMILIES_PER_YIELD = 4;

/**
 * The libvirt_* families for these snapshots. Like the exporter, only active domains (running,
 * paused, …) have series; a VM whose latest sample is stale (unreadable this tick, or older than
 * `staleAfterMs`) has none this scrape, rather than its last values repeated as fresh.
 */
export function createLibvirtRenderer(devicesOf: (s: MetricSnapshot) => DeviceLabels | undefined = () => undefined) {
  const cache = new WeakMap<MetricSnapshot, { lines: string[]; devices: DeviceLabels | undefined }>();
  const linesOf = (s: MetricSnapshot) => {
    const devices = devicesOf(s);
    let entry = cache.get(s);
    // Rebuilt when the VM has a new snapshot, or its device labels arrived meanwhile.
    if (!entry || entry.devices !== devices) {
      entry = { lines: vmLines(s, devices), devices };
      cache.set(s, entry);
    }
    return entry.lines;
  };

  // The last answer per format: scrapes within one tick (several Prometheus servers, retries) that
  // cover the same VMs' same lines get it again without the join (~14 ms at 1,000 VMs).
  const last = new Map<Format, { chunks: string[][]; active: number; up: boolean; text: string }>();

  return async function render(snapshots: readonly MetricSnapshot[], opts: LibvirtRenderOptions): Promise<string> {
    const chunks: string[][] = [];
    let active = 0;
    let built = 0;
    for (const s of snapshots) {
      if (INACTIVE_STATES.has(s.state)) continue;
      active++;
      if (s.stale || opts.now - s.ts > opts.staleAfterMs) continue;
      // The first scrape after a tick builds every VM's lines (~60 µs each): a few VMs at a time, so
      // a 1,000-VM scrape does not hold the event loop (ticks, subscriptions) for ~45 ms at once.
      if (!cache.has(s) && ++built % RENDER_CHUNK === 0) await yieldToEventLoop();
      chunks.push(linesOf(s));
    }
    const prev = last.get(opts.format);
    if (prev && prev.active === active && prev.up === opts.up && prev.chunks.length === chunks.length && prev.chunks.every((c, i) => c === chunks[i])) return prev.text;
    // One join per family, then one of the families: each join makes a flat string (appending piece
    // by piece (+=) builds a rope whose flattening, when the answer is encoded, cost ~20 ms at 750
    // VMs). Families are joined a few between yields: all ~12,000 pieces at once, with the VMs'
    // lines built before them, held the event loop for 60–150 ms at 1,000 VMs.
    const families: string[] = [];
    for (let f = 0; f < VM_FAMILIES.length; f++) {
      const pieces: string[] = [];
      for (const c of chunks) if (c[f]) pieces.push(c[f]!);
      // A family no VM has (block times on the test driver) is left out, header too, as the exporter does.
      if (pieces.length === 0) continue;
      if (families.length > 0 && families.length % FAMILIES_PER_YIELD === 0) await yieldToEventLoop();
      families.push(familyHeader(VM_FAMILIES[f]!, opts.format) + pieces.join(''));
    }
    families.push(`${familyHeader(DOMAINS_FAMILY, opts.format)}${DOMAINS_FAMILY.name} ${active}\n`);
    families.push(`${familyHeader(UP_FAMILY, opts.format)}${UP_FAMILY.name} ${opts.up ? 1 : 0}\n`);
    // The whole answer (~2.4 MB at 1,000 VMs) is a large object of its own: 7–14 ms, in a task of its own.
    await yieldToEventLoop();
    const text = families.join('');
    last.set(opts.format, { chunks, active, up: opts.up, text });
    return text;
  };
}

