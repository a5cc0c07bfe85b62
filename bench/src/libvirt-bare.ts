// What libvirt itself costs per tick, without vmpulse's JS: the collector's two libvirt calls
// (bulk getAllDomainStatsTable with the same groups and NOWAIT, then domainStatsPerCallTable for the running
// domains whose bulk record lacks cpu.time, with cached device lists and parallel 2), as in
// server/src/collector/loop.ts readHost(), in a loop. Run in a process of its own: the test driver
// runs inside the client library, so its CPU shows in this process.
// Usage: tsx libvirt-bare.ts <uri> <iterations>   → one JSON line on stdout
import { LibvirtConnection } from '../../server/src/libvirt/connection.js';
import { StatsTableReader } from '../../server/src/libvirt/stats-table.js';
import { STATS_GROUPS } from '../../server/src/features/telemetry/collector/loop.js';

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
  // As tables, like the collector (the addon's conversion is libvirt's cost here).
  const bulk = new StatsTableReader(await conn.getAllDomainStatsTable({ groups: STATS_GROUPS, nowait: true }));
  const t1 = performance.now();
  const stateKey = bulk.keyOf('state.state');
  const cpuKey = bulk.keyOf('cpu.time');
  const need: string[] = [];
  for (let row = 0; row < bulk.rows; row++) {
    const j = bulk.entry(row, stateKey);
    if (j >= 0 && bulk.value(j) === RUNNING && bulk.entry(row, cpuKey) < 0) need.push(bulk.table.uuids[row]!);
  }
  let t2 = t1;
  if (need.length) {
    const items = need.map((uuid) => ({ uuid, ...devices.get(uuid) }));
    const tables = await conn.domainStatsPerCallTable(items, { memory: true, interfaces: true, blocks: true, vcpus: true, cpu: true, parallel: 2 });
    for (const t of tables) {
      t.extra.forEach((e, row) => {
        if (e?.devices && !e.error) devices.set(t.uuids[row]!, e.devices);
      });
    }
    t2 = performance.now();
  }
  const cpu = process.cpuUsage(cpu0);
  // The first two rounds fill the device cache and warm up; the collector's steady state has the cache.
  if (i >= 2) runs.push({ wallMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000, bulkWallMs: t1 - t0, perCallWallMs: t2 - t1, domains: bulk.rows, perCallDomains: need.length });
}
await conn.close();
// RSS: the test driver runs in this process (with qemu:///system its domains live in libvirtd).
process.stdout.write(`${JSON.stringify({ uri, runs, rssMiB: Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10 })}\n`);
