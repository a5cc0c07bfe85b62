// Cancel across replicas (issue 10) with a real QEMU/TCG guest under libvirtd: two replicas as
// separate processes on one PostgreSQL and one redis-server, hosts qemu:///system and a test-driver
// fleet (one each). A dump of the guest asked and cancelled on the replica that does not own
// qemu:///system runs on the owner, and the cancel reaches it through Redis: status cancelled, no
// file left, the guest keeps running.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/lib/db.js';
import { createLogger } from '../src/lib/logger.js';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from './guest/qemu-guest.js';
import { startRedis, startReplica, type RedisServer, type Replica } from './helpers/replica.js';

const NAME = `vmpulse-rdump-${randomBytes(3).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

let dir: string;
let db: Database;
let redis: RedisServer;
let guest: Guest | undefined;
const replicas: Replica[] = [];

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  guest = await createGuest(NAME, { memoryMiB: 128 });
  await startGuest(NAME);
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-rdumpq-'));
  chmodSync(dir, 0o755);
  db = await openDatabase({ dataDir: path.join(dir, 'pg'), log: createLogger('silent') });
  redis = await startRedis();
  const env = {
    LIBVIRT_URI: `qemu:///system,${writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 2, prefix: 'rq-' })}`,
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    POLL_INTERVAL: '2',
    // Long enough that a replica stalled a few seconds on a loaded machine is not declared dead
    // (a lease round late by more than ttlMs, 16.5 s here): that is failover, tested in
    // replica-dumps.test.ts; it marks the owner's dump interrupted (seen once in CI at LEASE_TTL 6).
    LEASE_TTL: '20',
    DUMP_MIN_INTERVAL: '0',
  };
  for (let i = 0; i < 2; i++) replicas.push(await startReplica({ ...env, DATA_DIR: path.join(dir, `r${i}`) }));
}, 30 * 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.term('SIGKILL')));
  await guest?.cleanup();
  await redis?.stop();
  await db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('a dump asked and cancelled on the replica that does not own the guest\'s host runs on the owner and is cancelled there', async () => {
  const qemuHost = await until('one host each, qemu:///system owned', async () => {
    const rows = ((await (await replicas[0]!.api('/api/telemetry/status')).json()) as { hosts: { uri: string; owner: string | null }[] }).hosts;
    return new Set(rows.map((h) => h.owner)).size === 2 && rows.every((h) => h.owner) ? rows.find((h) => h.uri === 'qemu:///system') : undefined;
  });
  const owner = replicas.find((r) => r.pid === Number(qemuHost.owner!.split(':')[1]))!;
  const asker = replicas.find((r) => r !== owner)!;
  await until('the asker sees the guest running', async () => {
    const vms = ((await (await asker.api('/api/telemetry/vms')).json()) as { vms: { name: string; state: string }[] }).vms;
    return vms.some((v) => v.name === NAME && v.state === 'running');
  });
  const res = await asker.api('/api/memory-dumps/trigger', json({ vm_ids: [NAME], format: 'kdump-zlib' }));
  const body = (await res.json()) as { dump_ids: number[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  const id = body.dump_ids[0]!;
  const running = await until('the dump to run', async () => {
    const d = (await (await asker.api(`/api/memory-dumps/${id}`)).json()) as { status: string; replica: string | null };
    return d.status === 'running' ? d : undefined;
  }, 30_000);
  expect(Number(running.replica!.split(':')[1])).toBe(owner.pid);
  const r = await asker.api(`/api/memory-dumps/${id}/cancel`, { method: 'POST' });
  const d = (await r.json()) as { status: string; dump_path: string };
  expect(r.status, JSON.stringify(d)).toBe(200);
  const trail = () => replicas.map((x) => `${x === owner ? 'owner' : 'asker'}: ${x.logs.filter((l) => Number(l.level) >= 30).map((l) => JSON.stringify(l)).join('\n')}`).join('\n\n');
  expect(d.status, `${JSON.stringify(d)}\n${trail()}`).toBe('cancelled');
  expect(owner.logs.some((l) => l.msg === 'running dump cancelled from another replica' && l.dump === id)).toBe(true);
  const ownerDumps = path.join(dir, `r${replicas.indexOf(owner)}`, 'dumps');
  expect(existsSync(ownerDumps) ? readdirSync(ownerDumps) : []).toEqual([]);
  expect((await virsh(['domstate', NAME])).trim()).toBe('running');
}, 180_000);
