// The VM part of /metrics from hand-made snapshots, read back with a real exposition-format parser
// (parse-prometheus-text-format): exact counters past 2^53 and 2^64, stale and inactive VMs,
// escaping, OpenMetrics headers, and content negotiation as Prometheus sends it.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import type { DiskLibvirtLeaf, MetricSnapshot } from '../../../domain/snapshot.js';
import { parseDeviceLabels } from '../device-labels.js';
import { familyHeader, negotiate, nsToSeconds } from '../exposition.js';
import { createLibvirtRenderer } from '../libvirt-metrics.js';

const NOW = 1_800_000_000_000;
const U64_MAX = 18_446_744_073_709_551_615n;

function snapshot(over: Partial<MetricSnapshot> = {}): MetricSnapshot {
  return {
    vmId: 1, hostId: 1, hostName: 'h', vmName: 'vm-1', uuid: '00000000-0000-4000-8000-000000000001',
    ts: NOW - 500, state: 'running', cpus: 2, memoryMax: 2_097_152n,
    metrics: { cputime: 123_456_789_012_345_678_901n, memactual: 1_048_576n },
    nics: [{ name: 'vnet0', rxbytes: U64_MAX, rxpackets: 2n ** 53n + 1n, rxerrors: 0n, rxdrops: 1n, txbytes: 5n, txpackets: 6n, txerrors: 7n, txdrops: 8n }],
    disks: [{ name: 'vda', rd_req: 2n ** 63n + 3n, rd_bytes: 9_007_199_254_740_993n, wr_reqs: 11n, wr_bytes: 12n, errors: 0n }],
    rates: {}, angles: {}, cpuPct: { user: null, system: null, total: null }, memPct: null,
    stale: false, ageMs: 0,
    ...over,
  };
}

const OPTS = { format: 'text' as const, now: NOW, staleAfterMs: 10_000, up: true };

type Parsed = { name: string; type: string; help: string; metrics: { value: string; labels?: Record<string, string> }[] }[];
const parse = (text: string) => parsePrometheusTextFormat(text) as Parsed;
const family = (p: Parsed, name: string) => p.find((f) => f.name === name);

describe('the VM families', () => {
  it('writes counters exactly, past 2^53 and up to 2^64 − 1, in the exporter units', async () => {
    const raw: Partial<Record<DiskLibvirtLeaf, string | bigint>> = { path: '/var/lib/libvirt/images/vm-1.qcow2', 'rd.times': 1_500_000_001n, 'fl.reqs': 2n ** 60n };
    const s = snapshot();
    s.disks = s.disks.map((d) => ({ ...d, libvirt: (leaf: DiskLibvirtLeaf) => raw[leaf] }));
    const p = parse(await createLibvirtRenderer()([s], OPTS));
    const one = (name: string) => family(p, name)!.metrics[0]!;
    expect(one('libvirt_domain_interface_stats_receive_bytes_total').value).toBe('18446744073709551615');
    expect(one('libvirt_domain_interface_stats_receive_packets_total').value).toBe('9007199254740993');
    expect(one('libvirt_domain_block_stats_read_requests_total').value).toBe('9223372036854775811');
    expect(one('libvirt_domain_block_stats_read_bytes_total').value).toBe('9007199254740993');
    expect(one('libvirt_domain_block_stats_flush_requests_total').value).toBe('1152921504606846976');
    // ns → seconds as an exact decimal
    expect(one('libvirt_domain_info_cpu_time_seconds_total').value).toBe('123456789012.345678901');
    expect(one('libvirt_domain_block_stats_read_seconds_total').value).toBe('1.500000001');
    // KiB → bytes
    expect(one('libvirt_domain_info_maximum_memory_bytes').value).toBe(String(2_097_152 * 1024));
    expect(one('libvirt_domain_info_memory_usage_bytes').value).toBe(String(1_048_576 * 1024));
    expect(one('libvirt_domain_info_virtual_cpus').value).toBe('2');
    expect(one('libvirt_domain_state_code').value).toBe('1');
    expect(one('libvirt_domain_block_stats_read_bytes_total').labels).toEqual({
      domain: 'vm-1', uuid: s.uuid, source_file: '/var/lib/libvirt/images/vm-1.qcow2', target_device: 'vda',
    });
    expect(one('libvirt_domain_interface_stats_receive_bytes_total').labels).toEqual({ domain: 'vm-1', uuid: s.uuid, source_bridge: '', target_device: 'vnet0' });
    expect(family(p, 'libvirt_domain_info_cpu_time_seconds_total')!.type).toBe('COUNTER');
    expect(family(p, 'libvirt_domain_info_memory_usage_bytes')!.type).toBe('GAUGE');
    // What libvirt does not report has no family at all (write times here), as with the exporter.
    expect(family(p, 'libvirt_domain_block_stats_write_seconds_total')).toBeUndefined();
  });

  it('leaves out a stale VM and one whose latest sample is too old, and counts them as domains', async () => {
    const fresh = snapshot();
    const stale = snapshot({ vmId: 2, vmName: 'vm-2', uuid: 'u2', stale: true, ageMs: 3000, error: 'no stats this tick' });
    const old = snapshot({ vmId: 3, vmName: 'vm-3', uuid: 'u3', ts: NOW - 10_001 });
    const off = snapshot({ vmId: 4, vmName: 'vm-4', uuid: 'u4', state: 'shutoff', metrics: {}, nics: [], disks: [] });
    const p = parse(await createLibvirtRenderer()([fresh, stale, old, off], OPTS));
    for (const f of p.filter((x) => x.name.startsWith('libvirt_domain_'))) {
      expect(f.metrics.map((m) => m.labels!.domain), f.name).toEqual(f.metrics.map(() => 'vm-1'));
    }
    // The exporter counts active domains (virConnectListDomains): the shut-off one is not.
    expect(family(p, 'libvirt_domains_number')!.metrics[0]!.value).toBe('3');
    expect(family(p, 'libvirt_up')!.metrics[0]!.value).toBe('1');
  });

  it('builds a snapshot once and reuses it until the VM has a new one', async () => {
    const render = createLibvirtRenderer();
    const s = snapshot();
    const first = await render([s], OPTS);
    s.metrics.cputime = 1n; // not how snapshots change (a new object each tick): shows the cache is used
    expect(await render([s], OPTS)).toBe(first);
    expect(await render([{ ...s }], OPTS)).toContain('libvirt_domain_info_cpu_time_seconds_total{domain="vm-1",uuid="00000000-0000-4000-8000-000000000001"} 0.000000001\n');
  });

  it('serves the last answer again only while it covers the same lines: a VM that grew too old leaves, formats stay apart', async () => {
    const render = createLibvirtRenderer();
    const s = snapshot();
    const text = await render([s], OPTS);
    expect(await render([s], OPTS)).toBe(text);
    expect(await render([s], { ...OPTS, format: 'openmetrics' })).toContain('# TYPE libvirt_domain_info_cpu_time_seconds counter\n');
    expect(await render([s], OPTS)).toBe(text);
    const later = await render([s], { ...OPTS, now: s.ts + OPTS.staleAfterMs + 1 });
    expect(later).not.toContain('libvirt_domain_state_code{');
    expect(later).toContain('libvirt_domains_number 1\n');
    expect(await render([s], { ...OPTS, up: false })).toContain('libvirt_up 0\n');
  });

  it('lets timers and sockets run while it builds a large fleet\'s lines, and builds them only once', async () => {
    const render = createLibvirtRenderer();
    const fleet = Array.from({ length: 1_000 }, (_, i) => snapshot({ vmId: i + 1, vmName: `vm-${i + 1}` }));
    const order: string[] = [];
    setImmediate(() => order.push('other work'));
    const text = await render(fleet, OPTS);
    order.push('rendered');
    expect(order).toEqual(['other work', 'rendered']);
    expect(parse(text).find((f) => f.name === 'libvirt_domain_state_code')?.metrics).toHaveLength(1_000);
    // a second scrape of the same snapshots: nothing to build, the same answer at once
    setImmediate(() => order.push('other work again'));
    expect(await render(fleet, OPTS)).toBe(text);
    order.push('rendered again');
    expect(order.slice(2)).toEqual(['rendered again']);
  });

  it('escapes label values', async () => {
    const p = parse(await createLibvirtRenderer()([snapshot({ vmName: 'a"b\\c\nd' })], OPTS));
    expect(family(p, 'libvirt_domain_state_code')!.metrics[0]!.labels!.domain).toBe('a"b\\c\nd');
  });

  it('names a counter family without _total in OpenMetrics', () => {
    expect(familyHeader({ name: 'x_seconds_total', help: 'h "q"', type: 'counter' }, 'openmetrics')).toBe('# HELP x_seconds h \\"q\\"\n# TYPE x_seconds counter\n');
    expect(familyHeader({ name: 'x_seconds_total', help: 'h', type: 'counter' }, 'text')).toBe('# HELP x_seconds_total h\n# TYPE x_seconds_total counter\n');
  });
});

describe('nsToSeconds', () => {
  it('is exact for any size', () => {
    expect(nsToSeconds(0n)).toBe('0');
    expect(nsToSeconds(1_000_000_000n)).toBe('1');
    expect(nsToSeconds(1n)).toBe('0.000000001');
    expect(nsToSeconds(U64_MAX)).toBe('18446744073.709551615');
  });
});

describe('negotiate', () => {
  it('follows the Accept header as Prometheus sends it', () => {
    // Prometheus 2.x/3.x scrape Accept headers
    expect(negotiate('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(negotiate('application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.4')).toBe('openmetrics');
    expect(negotiate('text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5')).toBe('text');
    expect(negotiate('application/openmetrics-text; version=1.0.0; q=0')).toBe('text');
    expect(negotiate('application/openmetrics-text;version=2.0.0')).toBe('text');
    expect(negotiate('application/json')).toBe('text');
    expect(negotiate(undefined)).toBe('text');
    expect(negotiate('*/*')).toBe('text');
  });
});

describe('device labels from the domain XML', () => {
  // A running QEMU domain's live XML as libvirt 9 writes it (trimmed).
  const xml = `<domain type='kvm' id='3'>
  <name>web-01</name>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/web&amp;01.qcow2' index='2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/vg0/data' index='1'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/iso/debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source bridge='br0'/>
      <target dev='vnet3'/>
    </interface>
    <interface type='network'>
      <source network='default' portid='0d4c…' bridge='virbr0'/>
      <target dev="vnet4"/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:aa:bb:cd'/>
    </interface>
  </devices>
</domain>`;

  it('reads what the exporter reads: source files, bridges, CD-ROMs left out', () => {
    const d = parseDeviceLabels(xml);
    expect([...d.files]).toEqual([['vda', '/var/lib/libvirt/images/web&01.qcow2'], ['vdb', ''], ['sda', '/iso/debian.iso']]);
    expect([...d.bridges]).toEqual([['vnet3', 'br0'], ['vnet4', 'virbr0']]);
    expect([...d.skipped]).toEqual(['sda']);
  });

  it('labels the series with them and leaves the CD-ROM out', async () => {
    const s = snapshot({ disks: [...snapshot().disks, { name: 'sda', rd_req: 1n, rd_bytes: 2n, wr_reqs: 0n, wr_bytes: 0n, errors: 0n }], nics: [{ ...snapshot().nics[0]!, name: 'vnet3' }] });
    const p = parse(await createLibvirtRenderer(() => parseDeviceLabels(xml))([s], OPTS));
    expect(family(p, 'libvirt_domain_block_stats_read_bytes_total')!.metrics.map((m) => [m.labels!.target_device, m.labels!.source_file])).toEqual([['vda', '/var/lib/libvirt/images/web&01.qcow2']]);
    expect(family(p, 'libvirt_domain_interface_stats_receive_bytes_total')!.metrics[0]!.labels!.source_bridge).toBe('br0');
  });
});
