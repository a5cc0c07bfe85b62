// A simulated fleet for the history-disk figure: snapshots shaped as the collector makes them
// (same `derive` for rates and percentages), with simulated timestamps, so minutes of history
// are written in seconds. Deterministic for a seed.
//
// How the values move (what the figure depends on; see bench/README.md):
// - ticks every ~1 s: the collector stamps a tick when libvirt answered, so ts = start + k·1001.5 ms
//   + a latency of 100–160 ms; every VM of a tick shares it.
// - VMs: 15 % busy (CPU ~70 %, MB/s of network and disk), 45 % active (~20 %, tens of KB/s), 40 % idle
//   (~2 %, a few packets). Each load wanders (AR(1)) and every counter gets fresh noise each tick,
//   so low-order digits are random as on real hosts; no counter repeats its last increment.
// - granularity as libvirt reports it on cgroup v2: CPU times in whole µs (ns × 1000), disk bytes
//   in 512-byte sectors, memory in KiB, balloon figures moving by pages.
// - `worst`: every VM busy, with twice the noise.
import { COUNTER_METRICS, type MetricName } from '../../server/src/domain/metrics.js';
import { derive } from '../../server/src/features/telemetry/collector/rates.js';
import type { MetricSnapshot } from '../../server/src/domain/snapshot.js';

export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
  return { next, normal, int: (n: number) => Math.floor(next() * n) };
}

interface VmSim {
  id: number;
  cpus: number;
  memKb: bigint;
  kind: 'busy' | 'active' | 'idle';
  util: number;
  netLog: number;
  diskLog: number;
  metrics: Record<MetricName, bigint>;
  prev?: MetricSnapshot;
}

const LOAD = {
  busy: { util: 0.7, net: Math.log(5e6), disk: Math.log(300) },
  active: { util: 0.2, net: Math.log(5e4), disk: Math.log(20) },
  idle: { util: 0.02, net: Math.log(500), disk: Math.log(0.3) },
};

export function simulateFleet(opts: { vms: number; startMs: number; seed?: number; worst?: boolean }) {
  const r = rng(opts.seed ?? 1);
  const noise = opts.worst ? 2 : 1;
  const vms: VmSim[] = Array.from({ length: opts.vms }, (_, i) => {
    const p = r.next();
    const kind = opts.worst ? 'busy' : p < 0.15 ? 'busy' : p < 0.6 ? 'active' : 'idle';
    const memKb = BigInt([1, 2, 4, 8, 16][r.int(5)]! * 1024 * 1024);
    const metrics = Object.fromEntries(COUNTER_METRICS.map((m) => [m, 0n])) as Record<MetricName, bigint>;
    // counters of a VM up for weeks; cputime past 2^53 ns (~104 days of one vCPU) on some
    metrics.cputime = BigInt(Math.floor(r.next() * 2 ** 54)) * 1000n;
    metrics.timeusr = (metrics.cputime * 3n) / 4n / 1000n * 1000n;
    metrics.timesys = (metrics.cputime / 4n / 1000n) * 1000n;
    metrics.net_rxbytes = BigInt(Math.floor(r.next() * 1e12));
    metrics.net_txbytes = BigInt(Math.floor(r.next() * 1e12));
    metrics.net_rxpackets = metrics.net_rxbytes / 900n;
    metrics.net_txpackets = metrics.net_txbytes / 900n;
    metrics.disk_rd_bytes = BigInt(Math.floor(r.next() * 1e9)) * 512n;
    metrics.disk_wr_bytes = BigInt(Math.floor(r.next() * 1e9)) * 512n;
    metrics.disk_rd_req = metrics.disk_rd_bytes / 8192n;
    metrics.disk_wr_reqs = metrics.disk_wr_bytes / 8192n;
    metrics.memminor_fault = BigInt(Math.floor(r.next() * 1e9));
    metrics.memmajor_fault = BigInt(Math.floor(r.next() * 1e5));
    metrics.memactual = memKb;
    metrics.memavailable = memKb - 120_000n;
    metrics.memusable = (memKb * BigInt(30 + r.int(50))) / 100n;
    metrics.memrss = (memKb * BigInt(40 + r.int(50))) / 100n;
    metrics.memdisk_cache = (memKb * BigInt(5 + r.int(20))) / 100n;
    return { id: i + 1, cpus: [1, 2, 4, 8][r.int(4)]!, memKb, kind, util: LOAD[kind].util, netLog: LOAD[kind].net, diskLog: LOAD[kind].disk, metrics };
  });

  let k = 0;
  /** The next tick: one snapshot per VM, all stamped alike. */
  function tick(): MetricSnapshot[] {
    const ts = Math.round(opts.startMs + k * 1001.5 + 100 + r.next() * 60);
    k++;
    return vms.map((vm) => {
      const load = LOAD[vm.kind];
      const m = vm.metrics;
      vm.util = Math.min(1, Math.max(0, load.util + 0.9 * (vm.util - load.util) + r.normal() * 0.04 * noise * Math.max(load.util, 0.02)));
      vm.netLog = load.net + 0.95 * (vm.netLog - load.net) + r.normal() * 0.3 * noise;
      vm.diskLog = load.disk + 0.95 * (vm.diskLog - load.disk) + r.normal() * 0.3 * noise;
      const us = (x: number) => BigInt(Math.max(0, Math.round(x / 1000))) * 1000n; // whole µs in ns
      const cpuNs = vm.util * vm.cpus * 1e9 * (1 + r.normal() * 0.02 * noise);
      const usr = cpuNs * (0.7 + r.next() * 0.1);
      m.cputime += us(cpuNs);
      m.timeusr += us(usr);
      m.timesys += us(cpuNs - usr);
      const pkts = (bytes: number) => BigInt(Math.round(bytes / (600 + r.next() * 600)));
      for (const [b, p, scale] of [['net_rxbytes', 'net_rxpackets', 1], ['net_txbytes', 'net_txpackets', 0.4]] as const) {
        const bytes = Math.max(0, Math.exp(vm.netLog + r.normal() * 0.5 * noise) * scale);
        m[b] += BigInt(Math.round(bytes));
        m[p] += pkts(bytes);
      }
      for (const [b, q, scale] of [['disk_rd_bytes', 'disk_rd_req', 1], ['disk_wr_bytes', 'disk_wr_reqs', 1.5]] as const) {
        const reqs = Math.max(0, Math.round(Math.exp(vm.diskLog + r.normal() * 0.7 * noise) * scale - 0.5));
        m[q] += BigInt(reqs);
        m[b] += BigInt(reqs * (1 + r.int(64))) * 512n;
      }
      m.memminor_fault += BigInt(Math.round(vm.util * 3000 * r.next() * noise));
      if (r.next() < vm.util * 0.05) m.memmajor_fault += BigInt(1 + r.int(20));
      if (vm.kind === 'busy' && r.next() < 0.01) m.memswap_in += BigInt(r.int(64));
      // balloon figures: pages come and go
      m.memusable = clamp(m.memusable + BigInt(Math.round(r.normal() * 400 * noise)) * 4n, vm.memKb / 10n, vm.memKb);
      m.memrss = clamp(m.memrss + BigInt(Math.round(r.normal() * 100 * noise)) * 4n, vm.memKb / 10n, vm.memKb);
      m.memdisk_cache = clamp(m.memdisk_cache + BigInt(Math.round(r.normal() * 50 * noise)) * 4n, 0n, vm.memKb / 2n);
      const cur = { ts, metrics: { ...m }, cpus: vm.cpus, memoryMax: vm.memKb };
      const s: MetricSnapshot = {
        vmId: vm.id, hostId: 1, hostName: 'sim', vmName: `sim-${vm.id}`, uuid: `sim-${vm.id}`, state: 'running',
        ...cur, nics: [], disks: [], ...derive(vm.prev, cur), stale: false, ageMs: 0,
      };
      vm.prev = s;
      return s;
    });
  }
  return { tick };
}

const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);
