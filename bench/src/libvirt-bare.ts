// What libvirt itself costs per tick, without vmpulse's JS: the collector's two libvirt calls
// (bulk getAllDomainStats with the same groups and NOWAIT, then domainStatsPerCall for the running
// domains whose bulk record lacks cpu.time, with cached device lists and parallel 2), as in
// server/src/collector/loop.ts readHost(), in a loop. Run in a process of its own: the test driver
// runs inside the client library, so its CPU shows in this process.
// Usage: tsx libvirt-bare.ts <uri> <iterations>   → one JSON line on stdout
import { LibvirtConnection } from '../../server/src/libvirt/connection.js';
import type { StatsGroup } from '../../server/src/libvirt/types.js';

const GROUPS: StatsGroup[] = ['state', 'cpu-total', 'balloon', 'vcpu', 'interface', 'block'];
const RUNNING = 1;

const [uri, iterArg] = process.argv.slice(2);
if (!uri) throw new Error('usage: libvirt-bare.ts <uri> <iterations>');
const iterations = Number(iterArg ?? 30);

const conn = await LibvirtConnection.open(uri, { readOnly: true, events: false });
const devices = new Map<string, { interfaces: string[]; blocks: string[] }>();
const runs: { wallMs: number; cpuMs: number; bulkWallMs: number; perCallWallMs: number; domains: number; perCallDomains: number }[] = [];

for (let i = 0; i < iterations + 2; i++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const bulk = await conn.getAllDomainStats({ groups: GROUPS, nowait: true });
  const t1 = performance.now();
  const need = bulk.filter((r) => r.params['state.state'] === RUNNING && r.params['cpu.time'] === undefined);
  let t2 = t1;
  if (need.length) {
    const items = need.map((r) => {
      const d = devices.get(r.uuid);
      return d ? { uuid: r.uuid, interfaces: d.interfaces, blocks: d.blocks } : { uuid: r.uuid };
    });
    const recs = await conn.domainStatsPerCall(items, { memory: true, interfaces: true, blocks: true, vcpus: true, cpu: true, parallel: 2 });
    for (const r of recs) if (!r.error && !devices.has(r.uuid)) devices.set(r.uuid, r.devices);
    t2 = performance.now();
  }
  const cpu = process.cpuUsage(cpu0);
  // The first two rounds fill the device cache and warm up; the collector's steady state has the cache.
  if (i >= 2) runs.push({ wallMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000, bulkWallMs: t1 - t0, perCallWallMs: t2 - t1, domains: bulk.length, perCallDomains: need.length });
}
await conn.close();
process.stdout.write(`${JSON.stringify({ uri, runs })}\n`);
