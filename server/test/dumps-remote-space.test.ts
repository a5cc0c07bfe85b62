// A remote host (qemu+ssh through a private sshd to this machine's libvirtd) writes a dump into a
// storage pool there before it is streamed back: the pool's available bytes are checked against
// the guest's memory before libvirt is asked for anything. The pool (DUMP_REMOTE_POOL, a name of
// this test's own) sits on a real tmpfs whose size the test sets; `virsh pool-info --bytes` is the
// oracle for what the pool has. Too little → refused in the seed's error body, nothing written on
// either side, no record; enough → the dump goes through that pool and completes.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { mountTmpfs, type Tmpfs } from './helpers/dump-dir.js';
import { until } from './helpers/faults.js';
import { startSshHost, type SshHost } from './helpers/ssh-host.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from './guest/qemu-guest.js';

const MIB = 2 ** 20;
const MEMORY_MIB = 128;
const suffix = randomBytes(3).toString('hex');
const NAME = `vmpulse-rspace-${suffix}`;
const POOL = `vmpulse-rspace-${suffix}`;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

let guest: Guest | undefined;
let ssh: SshHost | undefined;
let t: TestApp | undefined;
let dir: string;
let pool: Tmpfs;
let poolDir: string;

/** the pool's available bytes as libvirt itself reports them */
async function poolAvailable(): Promise<number> {
  await virsh(['pool-refresh', POOL]);
  return Number(/Available:\s+(\d+)/.exec(await virsh(['pool-info', '--bytes', POOL]))![1]);
}

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-rspace-'));
  chmodSync(dir, 0o755);
  pool = mountTmpfs(path.join(dir, 'pool'), 64 * MIB);
  poolDir = pool.dir;
  guest = await createGuest(NAME, { memoryMiB: MEMORY_MIB });
  await startGuest(NAME);
  ssh = await startSshHost();
  t = await startTestApp({ LIBVIRT_URI: ssh.uri, DUMP_REMOTE_POOL: POOL, DUMP_REMOTE_DIR: poolDir, DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60' }, dir);
  await until('the inventory to see the guest over ssh', () => t!.app.services.vms.list({ name: NAME, state: 'running' })[0], 120_000);
}, 30 * 60_000);

afterAll(async () => {
  await t?.stop();
  await ssh?.stop();
  await guest?.cleanup();
  await virsh(['pool-destroy', POOL]).catch(() => {}); // transient: destroyed is gone
  pool?.release();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('a remote pool with less room than the guest\'s memory: refused before libvirt dumps; with room: dumped through that pool', async () => {
  const vm = t!.app.services.vms.list({ name: NAME })[0]!;
  const host = t!.app.services.hosts.get(vm.hostId)!;
  const r = await t!.api('/api/memory-dumps/trigger', json({ vm_ids: [NAME] }));
  expect(r.status).toBe(409);
  const body = (await r.json()) as { detail: string };
  expect(Object.keys(body)).toEqual(['detail']);
  const available = await poolAvailable();
  expect(available).toBeLessThanOrEqual(64 * MIB);
  expect(body.detail).toBe(
    `No memory dump scheduled: ${vm.id}: not enough free space in storage pool ${POOL} (${poolDir}) on host ${host.name}: ${gib(available)} available, VM ${NAME} has ${gib(MEMORY_MIB * MIB)} of memory`,
  );
  // Nothing written on the remote side (no volume in the pool), nor here; no record, no job.
  expect(readdirSync(poolDir)).toEqual([]);
  expect(await t!.app.db.prisma.memoryDump.count()).toBe(0);
  const jobs = await t!.app.db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'memory-dump%'`);
  expect(jobs[0]!.n).toBe(0);

  // Room in the pool: the dump is written there, streamed back, and the volume deleted.
  pool.resize(512 * MIB);
  const ok = await t!.api('/api/memory-dumps/trigger', json({ vm_ids: [NAME] }));
  const okBody = (await ok.json()) as any;
  expect(ok.status, JSON.stringify(okBody)).toBe(200);
  const d = await until(
    'the dump to end',
    async () => {
      const x = (await (await t!.api(`/api/memory-dumps/${okBody.dump_ids[0]}`)).json()) as any;
      return ['queued', 'running'].includes(x.status) ? undefined : x;
    },
    180_000,
    200,
  );
  expect(d, d.error).toMatchObject({ status: 'completed', format: 'elf', host_uri: ssh!.uri });
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(d.dump_path).pipe(createGunzip())) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  expect(h.digest('hex')).toBe(d.sha256);
  expect(size).toBeGreaterThanOrEqual(MEMORY_MIB * MIB);
  await until('the remote volume to be deleted', () => readdirSync(poolDir).length === 0, 20_000);
}, 300_000);
