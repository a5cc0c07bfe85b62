// An external PostgreSQL (DATABASE_URL, so host leases are on) down for longer than a lease, under
// one replica: the pool reconnects by itself, /readyz is 503 meanwhile, live samples keep flowing,
// the lease is kept (no other replica could take it) and no sample of the outage is lost.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase, type Database } from '../src/lib/db.js';
import { createLogger } from '../src/lib/logger.js';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ADMIN, collect } from './helpers/app.js';
import { postmasterPid, sleep, storedSampleTimes, until } from './helpers/faults.js';
import { startReplica, type Replica } from './helpers/replica.js';

const POLL = 0.5;
let dir: string;
let pgData: string;
let db: Database;
let r: Replica;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dburl-'));
  chmodSync(dir, 0o755);
  pgData = path.join(dir, 'pg');
  db = await openDatabase({ dataDir: pgData, log: createLogger('silent') }); // the "external" server (restarts itself once allowed)
  const fleet = writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 3, prefix: 'dburl-' });
  r = await startReplica({ LIBVIRT_URI: fleet, DATABASE_URL: db.url, DATA_DIR: path.join(dir, 'data'), POLL_INTERVAL: String(POLL), LEASE_TTL: '4' });
}, 120_000);

afterAll(async () => {
  try {
    chmodSync(path.join(pgData, 'postgres'), 0o700);
  } catch {
    /* already */
  }
  await r?.term('SIGKILL');
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('DATABASE_URL down longer than a lease: live samples go on, 503s, reconnects, lease kept, nothing lost', async () => {
  const vm = await until('a sampled VM', async () => {
    const body = await (await r.api('/api/telemetry/vms')).json();
    return body.vms.find((v: { last_sample: number | null }) => v.last_sample);
  });
  const client = createClient({ url: `${r.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN}` }, retryAttempts: 0 });
  const sub = collect<{ vmMetrics: { timestamp: string; stale: boolean } }>(client, 'subscription($id: ID!) { vmMetrics(vmId: $id) { timestamp stale } }', { id: String(vm.id) });
  await sub.next((m) => !m.vmMetrics.stale);

  const pgDir = path.join(pgData, 'postgres');
  const outageStart = Date.now();
  chmodSync(pgDir, 0o000);
  process.kill(postmasterPid(pgData), 'SIGKILL');
  await until('/readyz 503', async () => (await fetch(`${r.url}/readyz`)).status === 503, 10_000, 50);
  await sleep(8000); // well past the lease (LEASE_TTL 4 s)
  const live = sub.seen.filter((m) => Date.parse(m.vmMetrics.timestamp) > outageStart + 4000 && !m.vmMetrics.stale).length;
  expect(live).toBeGreaterThan(4 / POLL / 2); // the live view never stopped
  const status = await (await r.api('/api/telemetry/status')).json();
  expect(status.hosts[0].owned_here).toBe(true);

  chmodSync(pgDir, 0o700);
  const allowedAt = Date.now();
  await until('/readyz 200 again', async () => (await fetch(`${r.url}/readyz`)).status === 200, 30_000, 100);
  const reconnectMs = Date.now() - allowedAt;
  await until('the lease renewed', async () => {
    const ready = await (await fetch(`${r.url}/readyz`)).json();
    return ready.leases.owned === 1 && ready.leases.lastError === null;
  }, 10_000);
  await client.dispose();
  const stoppedAt = Date.now();
  const exit = await r.term('SIGTERM');
  console.log('database_url outage', JSON.stringify({ outageMs: allowedAt - outageStart, reconnectAfterAllowedMs: reconnectMs, liveSamplesDuring: live, sigtermExitMs: exit.ms }));
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(5000);
  const times = (await storedSampleTimes(db.url)).get(vm.id) ?? [];
  const during = times.filter((t) => t >= outageStart && t <= stoppedAt);
  expect(during.length).toBeGreaterThanOrEqual(Math.floor((stoppedAt - outageStart) / (POLL * 1000)) - 2);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(Math.max(...gaps)).toBeLessThan(POLL * 1000 * 3);
}, 120_000);
