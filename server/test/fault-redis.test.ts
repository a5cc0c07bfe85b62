// Redis down for 30 s and back, under two replicas (separate processes) sharing one PostgreSQL:
// each keeps serving its own subscribers throughout, the other replica's samples resume by
// themselves once Redis is back, nothing crashes.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/lib/db.js';
import { createLogger } from '../src/lib/logger.js';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ADMIN, collect } from './helpers/app.js';
import { sleep, until } from './helpers/faults.js';
import { startRedis, startReplica, type RedisServer, type Replica } from './helpers/replica.js';

const POLL = 0.5;
const DOWN_MS = Number(process.env.TEST_REDIS_DOWN_S ?? 30) * 1000;
let dir: string;
let db: Database;
let redis: RedisServer;
let a: Replica;
let b: Replica;
let client: Client;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-redisfault-'));
  chmodSync(dir, 0o755);
  db = await openDatabase({ dataDir: path.join(dir, 'pg'), log: createLogger('silent') });
  redis = await startRedis();
  const uris = [0, 1].map((i) => writeDemoFleet(path.join(dir, `fleet-${i}.xml`), { count: 2, prefix: `r${i}-` }));
  const env = { LIBVIRT_URI: uris.join(','), DATABASE_URL: db.url, REDIS_URL: redis.url, POLL_INTERVAL: String(POLL), LEASE_TTL: '4' };
  a = await startReplica({ ...env, DATA_DIR: path.join(dir, 'a') });
  b = await startReplica({ ...env, DATA_DIR: path.join(dir, 'b') });
}, 120_000);

afterAll(async () => {
  await client?.dispose();
  await Promise.all([a, b].map((r) => r?.term('SIGKILL')));
  await redis?.stop();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('Redis down 30 s: each replica serves its own subscribers; cross-replica samples resume after; no crash', async () => {
  // One host each.
  const hosts = await until('one host each', async () => {
    const body = await (await a.api('/api/telemetry/status')).json();
    const rows = body.hosts as { uri: string; owned_here: boolean; owner: string | null }[];
    return rows.every((h) => h.owner) && rows.filter((h) => h.owned_here).length === 1 ? rows : undefined;
  });
  const own = hosts.find((h) => h.owned_here)!;
  const ownIdx = own.uri.includes('fleet-0') ? 0 : 1;
  const live = (await (await a.api('/api/telemetry/live-vms')).json()).vms as { id: string; name: string }[];
  const ownVm = live.find((v) => v.name.startsWith(`r${ownIdx}-`))!;
  const otherVm = live.find((v) => v.name.startsWith(`r${1 - ownIdx}-`))!;
  client = createClient({ url: `${a.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN}` }, retryAttempts: 0 });
  const q = 'subscription($id: ID!) { vmMetrics(vmId: $id) { timestamp } }';
  const mine = collect<{ vmMetrics: { timestamp: string } }>(client, q, { id: ownVm.id });
  const theirs = collect<{ vmMetrics: { timestamp: string } }>(client, q, { id: otherVm.id });
  await theirs.next(() => theirs.seen.length >= 3);

  const downAt = Date.now();
  await redis.stop();
  await sleep(DOWN_MS);
  const upAt = Date.now();
  const ownDuring = mine.seen.filter((m) => {
    const ts = Date.parse(m.vmMetrics.timestamp);
    return ts > downAt + 1000 && ts < upAt;
  }).length;
  const expected = (upAt - downAt - 1000) / (POLL * 1000);
  expect(ownDuring).toBeGreaterThanOrEqual(Math.floor(expected * 0.8));
  const ready = await (await fetch(`${a.url}/readyz`)).json();
  expect(ready.bus.connected).toBe(false);
  expect(ready.bus.dropped).toBeGreaterThan(0);

  redis = await startRedis(redis.port);
  const back = await theirs.next((m) => Date.parse(m.vmMetrics.timestamp) > upAt, 20_000);
  const resumeMs = Date.parse(back.vmMetrics.timestamp) - upAt;
  console.log('redis back', JSON.stringify({ downMs: upAt - downAt, ownSamplesDuring: ownDuring, expectedAbout: Math.round(expected), crossResumeMs: resumeMs }));
  for (const r of [a, b]) expect(r.proc.exitCode).toBeNull();
  await until('bus connected again', async () => (await (await fetch(`${a.url}/readyz`)).json()).bus.connected === true, 10_000);
}, 120_000);
