// What the collector hands the InfluxDB store per VM per tick, built the way the collector builds it: a libvirt
// stats record (the keys and kinds of values a real QEMU/TCG guest under libvirt 9.0 reported for the groups
// vmpulse reads, recorded with the addon's getAllDomainStats) mapped by the collector's own mapStatsOf().
import { pino } from 'pino';
import { mapStatsOf } from '../../collector/mapping.js';
import { plainRow } from '../../collector/test/plain-row.js';
import type { MetricSnapshot } from '../../../../domain/snapshot.js';
import type { StatParams } from '../../../../libvirt/types.js';
import type { Logger } from '../../../../lib/logger.js';

/** A running 2-vCPU guest with one tap NIC and one qcow2 disk; counters grow with `tick`. */
export function libvirtRecordFixture(tick = 0): StatParams {
  const t = BigInt(tick);
  return {
    'state.state': 1, 'state.reason': 1,
    'cpu.time': 9_007_199_254_740_993n + t * 1_000_000n, 'cpu.user': 5_000_000_000n + t, 'cpu.system': 1_000_000_000n + t,
    'cpu.cache.monitor.count': 0, 'cpu.haltpoll.success.time': 0n, 'cpu.haltpoll.fail.time': 0n,
    'balloon.current': 1_048_576n, 'balloon.maximum': 2_097_152n, 'balloon.swap_in': 0n, 'balloon.swap_out': 0n,
    'balloon.major_fault': 12n, 'balloon.minor_fault': 3_456n + t, 'balloon.unused': 65_856n, 'balloon.available': 1_000_000n,
    'balloon.usable': 800_000n, 'balloon.last-update': 1_796_005_574n + t, 'balloon.disk_caches': 65_536n,
    'balloon.hugetlb_pgalloc': 0n, 'balloon.hugetlb_pgfail': 0n, 'balloon.rss': 524_288n,
    'vcpu.current': 2, 'vcpu.maximum': 2,
    'vcpu.0.state': 1, 'vcpu.0.time': 4_040_000_000n + t, 'vcpu.0.wait': 0n, 'vcpu.0.delay': 48_862_346n,
    'vcpu.1.state': 1, 'vcpu.1.time': 0n, 'vcpu.1.wait': 0n, 'vcpu.1.delay': 3_031_554n,
    'net.count': 1, 'net.0.name': 'vnet0',
    'net.0.rx.bytes': 1_000n + t, 'net.0.rx.pkts': 10n, 'net.0.rx.errs': 0n, 'net.0.rx.drop': 0n,
    'net.0.tx.bytes': 2_000n + t, 'net.0.tx.pkts': 20n, 'net.0.tx.errs': 0n, 'net.0.tx.drop': 0n,
    'block.count': 1, 'block.0.name': 'vda', 'block.0.path': '/var/lib/libvirt/images/vm.qcow2', 'block.0.backingIndex': 1,
    'block.0.rd.reqs': 5n, 'block.0.rd.bytes': 4_096n + t, 'block.0.rd.times': 3_890_262n, 'block.0.wr.reqs': 6n,
    'block.0.wr.bytes': 8_192n + t, 'block.0.wr.times': 3_194_713n, 'block.0.fl.reqs': 5n, 'block.0.fl.times': 5_144_166n,
    'block.0.allocation': 1n << 30n, 'block.0.capacity': 10n << 30n, 'block.0.physical': 1_581_056n,
  };
}

/** A fresh, fully reported VM sample; counters grow with `tick` so successive rows differ. */
export function snapshotFixture(vmId: number, ts: number, tick = 0, over: Partial<MetricSnapshot> = {}): MetricSnapshot {
  const libvirt = libvirtRecordFixture(tick);
  const mapped = mapStatsOf(plainRow(libvirt));
  return {
    vmId, hostId: 1, hostName: 'host-a', vmName: `vm-${vmId}`, uuid: `00000000-0000-4000-8000-${String(vmId).padStart(12, '0')}`,
    ts, state: 'running', cpus: mapped.cpus ?? 2,
    metrics: mapped.metrics, nics: mapped.nics, disks: mapped.disks,
    memoryMax: 2_097_152n,
    rates: { cputime: 1e9, net_rxbytes: 1, net_txbytes: 1 },
    angles: { cputime: 90, net_rxbytes: 45, net_txbytes: 45 },
    cpuPct: { user: 10 + (tick % 10), system: 5, total: 15 + (tick % 10) },
    memPct: 50,
    stale: false, ageMs: 0,
    libvirt,
    ...over,
  };
}

/** A real pino logger whose output the test can read (to prove what is, and is not, logged). */
export function captureLogger(): { log: Logger; output: string[] } {
  const output: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => void output.push(s) }), output };
}

export async function waitFor(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
