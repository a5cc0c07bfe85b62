// The embedded PostgreSQL killed under a running vmpulse (a separate process): vmpulse restarts it by
// itself; meanwhile /readyz is 503 and calls that need the database answer 503 in their family's
// body (GraphQL: a clear UNAVAILABLE error), never 500; the libvirt connections are untouched and
// none leaks (libvirtd's own client list); no sample of the outage is lost; SIGTERM afterwards
// exits 0 within 5 s. The restart is held off (data directory made unreadable) to observe the outage.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../src/lib/db.js';
import { createLogger } from '../src/lib/logger.js';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ensureLibvirtd } from './guest/qemu-guest.js';
import { libvirtClientsOf, postmasterPid, sleep, storedSampleTimes, until } from './helpers/faults.js';
import { startReplica, type Replica } from './helpers/replica.js';

const POLL = 0.5;
let dir: string;
let dataDir: string;
let r: Replica;

beforeAll(async () => {
  await ensureLibvirtd();
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-pgfault-'));
  chmodSync(dir, 0o755);
  dataDir = path.join(dir, 'data');
  const fleet = writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 4, prefix: 'pgfault-' });
  r = await startReplica({ LIBVIRT_URI: `qemu:///system,${fleet}`, DATA_DIR: dataDir, POLL_INTERVAL: String(POLL), INVENTORY_INTERVAL: '1' });
}, 120_000);

afterAll(async () => {
  try {
    chmodSync(path.join(dataDir, 'postgres'), 0o700);
  } catch {
    /* already */
  }
  await r?.term('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('restarts the killed embedded PostgreSQL; 503s meanwhile; libvirt untouched; nothing lost; SIGTERM exits 0', async () => {
  const gql = (query: string, token: string) =>
    fetch(`${r.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  // A stored token (its check needs the database), and a VM of the test fleet.
  const created = await (await gql('mutation { createToken(name: "pgfault", role: viewer) { token } }', process.env.VMPULSE_ADMIN_TOKEN ?? 'test-admin-token-0123456789')).json();
  const viewer = created.data.createToken.token as string;
  const vm = await until('a sampled VM of the fleet', async () => {
    const body = await (await r.api('/api/telemetry/vms')).json();
    return body.vms.find((v: { name: string; last_sample: number | null }) => v.name.startsWith('pgfault-') && v.last_sample);
  });
  const clientsBefore = libvirtClientsOf(r.pid);
  expect(clientsBefore).toBe(1); // qemu:///system through libvirtd (the test driver runs in-process)

  const pgDir = path.join(dataDir, 'postgres');
  const outageStart = Date.now();
  chmodSync(pgDir, 0o000); // PostgreSQL (user postgres) cannot start again until we allow it
  process.kill(postmasterPid(dataDir), 'SIGKILL');

  const ready = await until('/readyz 503', async () => {
    const res = await fetch(`${r.url}/readyz`);
    return res.status === 503 ? res.json() : undefined;
  });
  expect(ready.database).toBe(false);

  // Calls that need the database: 503 in the family's body with the reason, never 500.
  await until('a stored token is answered 503', async () => {
    const res = await fetch(`${r.url}/api/telemetry/status`, { headers: { authorization: `Bearer ${viewer}` } });
    return res.status === 503;
  });
  const asViewer = await fetch(`${r.url}/api/telemetry/status`, { headers: { authorization: `Bearer ${viewer}` } });
  expect(asViewer.status).toBe(503);
  expect((await asViewer.json()).detail).toMatch(/^database unavailable/);
  const history = await r.api(`/api/metrics/vm/${vm.id}/history?metric_name=cpu_usage&limit=5`);
  expect(history.status).toBe(503);
  expect((await history.json()).detail).toMatch(/^database unavailable/);
  const g = await gql(`{ vm(id: "${vm.id}") { history(input: { range: LAST_15_MINUTES }) { points { timestamp } } } }`, 'test-admin-token-0123456789');
  const gb = await g.json();
  expect(g.status).not.toBe(500);
  expect(gb.errors[0].message).toMatch(/^database unavailable/);
  expect(gb.errors[0].extensions.code).toBe('UNAVAILABLE');
  const gv = await gql('{ vms { id } }', viewer);
  expect(gv.status).toBe(503);
  expect((await gv.json()).errors[0].extensions.code).toBe('UNAVAILABLE');
  // graphql-ws with a stored token: closed "try again later" (1013) with the reason.
  const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
    const ws = new WebSocket(`${r.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${viewer}` } })));
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  expect(closed.code).toBe(1013);
  expect(closed.reason).toMatch(/^database unavailable/);
  // What needs no database keeps answering from memory.
  const latest = await r.api(`/api/telemetry/vm-stats/${vm.id}`);
  expect(latest.status).toBe(200);

  // Several inventory re-lists (every 1 s) fail on the database meanwhile: libvirt must not care.
  await sleep(4000);
  expect(libvirtClientsOf(r.pid)).toBe(clientsBefore);

  chmodSync(pgDir, 0o700);
  const allowedAt = Date.now();
  await until('/readyz 200 again', async () => (await fetch(`${r.url}/readyz`)).status === 200, 20_000, 50);
  const restartMs = Date.now() - allowedAt;
  const outageMs = Date.now() - outageStart;
  expect(r.logs.some((l) => l.msg === 'embedded PostgreSQL restarted')).toBe(true);
  expect((await fetch(`${r.url}/api/telemetry/status`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(200);
  await sleep(3000); // more re-lists, now succeeding
  expect(libvirtClientsOf(r.pid)).toBe(clientsBefore);
  expect(r.logs.filter((l) => l.msg === 'libvirt connection lost; reconnecting')).toEqual([]);
  expect(r.logs.filter((l) => (l.level as number) >= 50 && l.msg === 'request failed')).toEqual([]); // no 500

  // Killed again, nothing in the way: back by itself within seconds.
  const killedAgain = Date.now();
  process.kill(postmasterPid(dataDir), 'SIGKILL');
  await until('/readyz 503 after the second kill', async () => (await fetch(`${r.url}/readyz`)).status === 503, 5000, 20).catch(() => 'missed');
  await until('/readyz 200 after the second kill', async () => (await fetch(`${r.url}/readyz`)).status === 200, 20_000, 50);
  const unhinderedRestartMs = Date.now() - killedAgain;
  expect(unhinderedRestartMs).toBeLessThan(10_000);
  expect(libvirtClientsOf(r.pid)).toBe(clientsBefore);

  const stoppedAt = Date.now();
  const exit = await r.term('SIGTERM');
  console.log('pg outage', JSON.stringify({ outageMs, restartAfterAllowedMs: restartMs, unhinderedRestartMs, sigtermExitMs: exit.ms, exitCode: exit.code }));
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(5000);

  // Read what was stored, from the same data directory: every tick of the outage is there.
  const db = await openDatabase({ dataDir, log: createLogger('silent') });
  try {
    const times = (await storedSampleTimes(db.url)).get(vm.id) ?? [];
    const during = times.filter((t) => t >= outageStart && t <= stoppedAt);
    expect(during.length).toBeGreaterThanOrEqual(Math.floor((stoppedAt - outageStart) / (POLL * 1000)) - 2);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeLessThan(POLL * 1000 * 3);
  } finally {
    await db.close();
  }
}, 120_000);
