// What one host's libvirt costs a server per tick, as the server meets it: the collector's bulk stats
// call once per interval (not back to back, as libvirt-bare.ts does: at 1 Hz the call finds cold
// caches and sleeping threads), on a connection opened as the server opens it (lifecycle events on,
// libvirt's event-loop thread running: replies and keepalives pass through it). The process' CPU,
// all threads, between the calls too, per round, less the same process' CPU over as many rounds
// with no connection (Node's own timers and GC). Plain JS on the server's build (server/dist), so no
// tsx loader thread adds its own CPU.
// Usage: node libvirt-paced.mjs <uri> <rounds> <intervalMs>   → one JSON line on stdout
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [uri, roundsArg, intervalArg] = process.argv.slice(2);
if (!uri) throw new Error('usage: libvirt-paced.mjs <uri> <rounds> <intervalMs>');
const rounds = Number(roundsArg ?? 30);
const intervalMs = Number(intervalArg ?? 1000);
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../server/dist/src');
const { LibvirtConnection } = await import(path.join(dist, 'libvirt/connection.js'));
const { StatsTableReader } = await import(path.join(dist, 'libvirt/stats-table.js'));
const { STATS_GROUPS } = await import(path.join(dist, 'features/telemetry/collector/loop.js'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuMs = (c) => (c.user + c.system) / 1000;

/** CPU per round of `n` rounds, each `work()` then the rest of the interval asleep */
async function perRound(n, work) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await work();
    await sleep(Math.max(0, intervalMs - (performance.now() - t0)));
  }
  return cpuMs(process.cpuUsage(c0)) / n;
}

const idleBefore = await perRound(rounds, async () => {});
const conn = await LibvirtConnection.open(uri, { readOnly: true });
let domains = 0;
const call = async () => {
  const t = new StatsTableReader(await conn.getAllDomainStatsTable({ groups: STATS_GROUPS, nowait: true }));
  domains = t.rows;
};
await perRound(2, call); // warm-up
const withCalls = await perRound(rounds, call);
await conn.close();
const idleAfter = await perRound(rounds, async () => {});
const idle = (idleBefore + idleAfter) / 2;
const r3 = (x) => Math.round(x * 1000) / 1000;
process.stdout.write(`${JSON.stringify({ uri, rounds, intervalMs, domains, cpuMsPerRound: r3(withCalls), idleCpuMsPerRound: r3(idle), libvirtCpuMsPerTick: r3(withCalls - idle) })}\n`);
