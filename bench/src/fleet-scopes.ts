// fleetMetrics with scoped tokens (issue 11): the same server and 1,000-VM demo fleet (OpenNebula
// owners: alice/engineering, bob/finance, a third without), measured in one run with N fleetMetrics
// clients all unscoped (admin) and with the same N clients spread over 10 distinct scopes,
// alternating (A B A B …) so both see the same machine load. Per window: the collector's tick CPU
// (median, as the server reports it), the server process's CPU (all threads: the per-scope filtering
// runs when the tick is published, outside the tick), event-loop p99, and fleetMetrics latency
// (receive time − newest sample time in the message) p50/p99 from a client process of its own.
// Usage: pnpm --filter @vmpulse/bench fleet-scopes [--vms 1000] [--clients 20] [--window 30] [--reps 2]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDemoFleet } from '../../server/src/libvirt/demo-fleet.js';
import { startServer } from './server.js';
import { BENCH_DIR, killChildren, machine, median, round, runJsonChild, sleep } from './util.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const VMS = opt('vms', 1000);
const CLIENTS = opt('clients', 20);
const WINDOW_S = opt('window', 30);
const REPS = opt('reps', 2);
const log = (s: string) => process.stderr.write(`[fleet-scopes ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Ten distinct scopes over the demo owners: by name, by id, both. */
const SCOPES = [
  { user: 'alice' }, { user: 'bob' }, { group: 'engineering' }, { group: 'finance' },
  { user: '5' }, { user: '6' }, { group: '100' }, { group: '101' },
  { user: 'alice', group: 'engineering' }, { user: 'bob', group: '101' },
];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-bench-scopes-'));
const server = await startServer({ libvirtUri: writeDemoFleet(path.join(tmp, 'fleet.xml'), { count: VMS }), label: 'scopes', env: { HTTP_RATE_LIMIT: '100000000' } });
try {
  const gql = async (query: string, variables: object) => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...server.auth }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as any;
  };
  const scoped: string[] = [];
  for (const [i, scope] of SCOPES.entries()) {
    const r = await gql(`mutation($n: String!, $s: TokenScopeInput) { createToken(name: $n, role: viewer, scope: $s) { token } }`, { n: `bench scope ${i}`, s: scope });
    scoped.push(r.data.createToken.token);
  }
  const admin = server.auth.authorization.slice(7);
  await server.waitTicks(5, 120_000);
  const windows: Record<'unscoped' | 'scoped', any[]> = { unscoped: [], scoped: [] };
  for (let r = 0; r < REPS; r++) {
    for (const mode of r % 2 === 0 ? (['unscoped', 'scoped'] as const) : (['scoped', 'unscoped'] as const)) {
      log(`rep ${r + 1}/${REPS}: ${CLIENTS} fleetMetrics clients, ${mode === 'scoped' ? `${SCOPES.length} scopes` : 'no scope'}, ${WINDOW_S} s`);
      await server.probe('reset');
      const before = server.ticks.length;
      const cpu0 = server.cpu();
      const ws = await runJsonChild<any>(
        'ws-clients.ts',
        [JSON.stringify({ url: server.url, token: admin, vmIds: [], vmClients: 0, fleetClients: CLIENTS, durationMs: WINDOW_S * 1000, fleetTokens: mode === 'scoped' ? scoped : [admin] })],
        (WINDOW_S + 120) * 1000,
      );
      const probe = await server.probe('read');
      const cpu1 = server.cpu();
      const ticks = server.ticks.slice(before + 3);
      if (ws.fleet.errors.length) log(`errors: ${ws.fleet.errors.join(' | ')}`);
      windows[mode].push({
        tickCpuMsMedian: round(median(ticks.map((t) => t.lastTickCpuMs)), 1),
        serverCpuPct: round(((cpu1.self - cpu0.self) / (probe.wallMs / 1000)) * 100, 1),
        eventLoopP99Ms: probe.eventLoop.p99Ms,
        latencyP50Ms: ws.fleet.latency.p50,
        latencyP99Ms: ws.fleet.latency.p99,
        messages: ws.fleet.messages,
        payloadBytesPerMessage: ws.fleet.payloadBytesPerMessage,
        load1: round(os.loadavg()[0]!, 2),
      });
      await sleep(2000);
    }
  }
  const out = {
    command: `pnpm --filter @vmpulse/bench fleet-scopes --vms ${VMS} --clients ${CLIENTS} --window ${WINDOW_S} --reps ${REPS}`,
    at: new Date().toISOString(),
    machine: machine(),
    vms: VMS,
    clients: CLIENTS,
    scopes: SCOPES,
    windows,
  };
  const lines = [
    `fleetMetrics × scopes: ${VMS} VMs, ${CLIENTS} fleetMetrics clients, ${WINDOW_S} s windows, alternating; ${out.at}`,
    `command: ${out.command}`,
    'mode       rep  tick CPU median  server CPU  event loop p99  latency p50 / p99  bytes/message  load1',
    ...(['unscoped', 'scoped'] as const).flatMap((m) =>
      windows[m].map((w, i) => `${m.padEnd(10)} ${String(i + 1).padEnd(4)} ${`${w.tickCpuMsMedian} ms`.padEnd(16)} ${`${w.serverCpuPct} %`.padEnd(11)} ${`${w.eventLoopP99Ms} ms`.padEnd(15)} ${`${w.latencyP50Ms} / ${w.latencyP99Ms} ms`.padEnd(18)} ${String(w.payloadBytesPerMessage).padEnd(14)} ${w.load1}`),
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(path.join(BENCH_DIR, 'results.fleet-scopes.json'), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(path.join(BENCH_DIR, 'results.fleet-scopes.txt'), `${lines.join('\n')}\n`);
} finally {
  await server.stop();
  killChildren();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
