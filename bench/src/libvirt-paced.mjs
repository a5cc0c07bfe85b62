// What real hosts' libvirt costs a server per tick, as the server meets it: the collector's bulk
// stats call once per interval on each of N connections at once (as hosts sharing a phase tick: not
// back to back, as libvirt-bare.ts does: at 1 Hz the call finds cold caches and sleeping threads),
// each connection opened as the server opens it (lifecycle events on, libvirt's event-loop thread
// running: replies and keepalives pass through it). Runs until killed; per-host.ts reads its CPU
// from /proc over the same window as the servers', beside them, and one such process per host
// count gives libvirt's cost per extra host as the difference (the process' own timers and GC
// cancel out). Plain JS on the server's build (server/dist), so no tsx loader thread adds its own CPU.
// Usage: node libvirt-paced.mjs <intervalMs> <uri>...   → prints "ready <domains per host>" once connected
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [intervalArg, ...uris] = process.argv.slice(2);
if (!uris.length) throw new Error('usage: libvirt-paced.mjs <intervalMs> <uri>...');
const intervalMs = Number(intervalArg);
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../server/dist/src');
const { LibvirtConnection } = await import(path.join(dist, 'libvirt/connection.js'));
const { StatsTableReader } = await import(path.join(dist, 'libvirt/stats-table.js'));
const { STATS_GROUPS } = await import(path.join(dist, 'features/telemetry/collector/loop.js'));

const conns = await Promise.all(uris.map((uri) => LibvirtConnection.open(uri, { readOnly: true })));
const call = async (conn) => new StatsTableReader(await conn.getAllDomainStatsTable({ groups: STATS_GROUPS, nowait: true })).rows;
process.stdout.write(`ready ${(await call(conns[0])) ?? 0}\n`);
const tick = async () => {
  const t0 = performance.now();
  await Promise.all(conns.map(call));
  setTimeout(tick, Math.max(0, intervalMs - (performance.now() - t0)));
};
void tick();
process.on('SIGTERM', async () => {
  await Promise.all(conns.map((c) => c.close()));
  process.exit(0);
});
