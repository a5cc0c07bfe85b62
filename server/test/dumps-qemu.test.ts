// Memory dumps of a real QEMU/TCG guest under the system libvirtd: the recorded SHA-256 equals the
// one computed here from the gunzipped file, the ELF core's size matches the guest's memory and
// holds the marker its init wrote into RAM, progress arrives in order, cancel and timeout leave no
// file, a server stopped mid-dump marks the dump interrupted. Each app's DATA_DIR (its PostgreSQL
// and its dumps) is a temporary directory of this file's, removed when that app stops.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from './guest/qemu-guest.js';
import { startSshHost, type SshHost } from './helpers/ssh-host.js';
import { mountTmpfs } from './helpers/dump-dir.js';
import { REMOTE_DUMP_DIR } from '../src/libvirt/dump-remote.js';

const MEMORY_MIB = 128;
const MIB = 2 ** 20;
const suffix = randomBytes(3).toString('hex');
const NAME = `vmpulse-dump-${suffix}`;
const MARKER = `m${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

let guest: Guest | undefined;

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

async function trigger(t: TestApp, format?: string, vm = NAME): Promise<number> {
  const r = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [vm], ...(format ? { format } : {}) }));
  const body = (await r.json()) as any;
  expect(r.status, JSON.stringify(body)).toBe(200);
  return body.dump_ids[0];
}

const record = async (t: TestApp, id: number) => (await (await t.api(`/api/memory-dumps/${id}`)).json()) as any;
const ended = (t: TestApp, id: number, ms = 120_000) =>
  until(`dump ${id} to end`, async () => {
    const d = await record(t, id);
    return ['queued', 'running'].includes(d.status) ? undefined : d;
  }, ms);

/** A temporary DATA_DIR for one app; `rm` removes it (once its app has stopped). */
function dataDir(name: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vmpulse-${name}-`));
  return { dir, rm: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Nothing of the dump is left: not the file, not its temporary, not a FIFO. */
function nothingLeft(dumpDir: string) {
  return existsSync(dumpDir) ? readdirSync(dumpDir).filter((f) => f.endsWith('.part') || f.endsWith('.fifo') || f.endsWith('.mem.gz')) : [];
}

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  guest = await createGuest(NAME, { memoryMiB: MEMORY_MIB, cmdlineExtra: `vmpulse.marker=${MARKER}` });
  await startGuest(NAME);
  await until('the guest to write its marker', async () => (existsSync(guest!.consoleLog) && readFileSync(guest!.consoleLog, 'utf8').includes('marker written') ? true : undefined), 120_000);
}, 30 * 60_000);

afterAll(async () => {
  await guest?.cleanup();
});

describe('a real guest', () => {
  let t: TestApp;
  let dumpDir: string;
  let data: ReturnType<typeof dataDir> | undefined;
  beforeAll(async () => {
    data = dataDir('dumpq');
    dumpDir = path.join(data.dir, 'dumps');
    t = await startTestApp({ LIBVIRT_URI: 'qemu:///system', DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60' }, data.dir);
    await until('the inventory to see the guest', async () => t.app.services.vms.list({ name: NAME, state: 'running' })[0]);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    data?.rm();
  });

  it('an ELF dump: hash, size, marker and progress in order', async () => {
    const sub = collect<any>(t.ws(), 'subscription { dumpJobUpdated { id status progress { phase percent rawBytes gzipBytes mbPerSec etaSeconds compressionRatio } } }');
    await sleep(300);
    const id = await trigger(t);
    const d = await ended(t, id);
    expect(d, d.error).toMatchObject({ status: 'completed', format: 'elf', dom: NAME, domain_uuid: guest!.uuid, error: null });
    // The oracle: SHA-256 of the gunzipped file, computed here, and the raw bytes themselves.
    const raw: Buffer[] = [];
    const h = createHash('sha256');
    for await (const c of createReadStream(d.dump_path).pipe(createGunzip())) {
      h.update(c as Buffer);
      raw.push(c as Buffer);
    }
    const core = Buffer.concat(raw);
    expect(h.digest('hex')).toBe(d.sha256);
    expect(createHash('sha256').update(readFileSync(d.dump_path)).digest('hex')).toBe(d.gzip_sha256);
    expect(core.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    const memBytes = Number((await virsh(['dommemstat', NAME]).catch(() => '')).match(/actual (\d+)/)?.[1] ?? MEMORY_MIB * 1024) * 1024;
    expect(memBytes).toBe(MEMORY_MIB * 2 ** 20);
    // ELF headers and notes, then the guest's RAM: a little more than its memory, never less.
    expect(core.length).toBeGreaterThanOrEqual(memBytes);
    expect(core.length).toBeLessThan(memBytes + 2 ** 20);
    expect(d.raw_size_bytes).toBe(core.length);
    expect(core.includes(`VMPULSE-RAM-MARKER:${MARKER}:WRITTEN-BY-INIT`)).toBe(true);
    expect(nothingLeft(dumpDir)).toEqual([path.basename(d.dump_path)]);

    // Progress of this dump over the subscription: phases forward only, bytes and percent never back.
    await until('the last progress message', async () => (sub.seen.some((m) => m.dumpJobUpdated.id === String(id) && m.dumpJobUpdated.status === 'completed') ? true : undefined), 10_000);
    const mine = sub.seen.map((m) => m.dumpJobUpdated).filter((j) => j.id === String(id));
    const order = ['queued', 'dumping', 'finishing', 'done'];
    const phases = mine.map((j) => order.indexOf(j.progress.phase));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    expect(new Set(mine.map((j) => j.progress.phase))).toEqual(new Set(['queued', 'dumping', 'done', ...(mine.some((j) => j.progress.phase === 'finishing') ? ['finishing'] : [])]));
    const bytes = mine.map((j) => j.progress.rawBytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    const pct = mine.map((j) => j.progress.percent).filter((p) => p !== null);
    expect(pct).toEqual([...pct].sort((a, b) => a - b));
    expect(mine.at(-1).progress).toMatchObject({ phase: 'done', percent: 100, rawBytes: core.length });
    expect(mine.at(-1).progress.compressionRatio).toBeGreaterThan(1);
    sub.dispose();
  }, 180_000);

  it('kdump-zlib is selectable', async () => {
    const d = await ended(t, await trigger(t, 'kdump-zlib'));
    expect(d, d.error).toMatchObject({ status: 'completed', format: 'kdump-zlib' });
    const head = await new Promise<Buffer>((resolve, reject) => {
      const s = createReadStream(d.dump_path).pipe(createGunzip());
      s.once('data', (c) => resolve(c as Buffer));
      s.once('error', reject);
    });
    // Written to a pipe, QEMU's kdump is makedumpfile's flattened format (what `makedumpfile -R` reads).
    expect(head.subarray(0, 12).toString('latin1')).toBe('makedumpfile');
  }, 180_000);

  it('cancel stops a running dump: no file left, the guest keeps running', async () => {
    const before = new Set(nothingLeft(dumpDir));
    const id = await trigger(t, 'kdump-zlib');
    await until('the dump to run', async () => ((await record(t, id)).status === 'running' ? true : undefined), 30_000);
    const t0 = Date.now();
    const r = await t.api(`/api/memory-dumps/${id}/cancel`, { method: 'POST' });
    expect(r.status).toBe(200);
    const d = await ended(t, id);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(d.status).toBe('cancelled');
    expect(nothingLeft(dumpDir).filter((f) => !before.has(f))).toEqual([]);
    expect((await virsh(['domstate', NAME])).trim()).toBe('running');
  }, 120_000);
});

describe('timeout, concurrency and restart', () => {
  it('DUMP_CONCURRENCY caps the dumps running at once (1 here: two guests, one after the other); a running dump holds its room in DUMP_DIR', async () => {
    const second = await createGuest(`${NAME}-b`, { memoryMiB: MEMORY_MIB });
    const data = dataDir('dumpc');
    // DUMP_DIR: a real file system of a size of our choosing (room for both guests at first).
    const dumps = mountTmpfs(path.join(data.dir, 'dumps'), 300 * MIB);
    const t = await startTestApp({ LIBVIRT_URI: 'qemu:///system', DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60', DUMP_CONCURRENCY: '1', DUMP_DIR: dumps.dir }, data.dir);
    try {
      await startGuest(second.name);
      await until('the inventory to see both guests', async () => (t.app.services.vms.list({ name: NAME, state: 'running' }).length === 2 ? true : undefined));
      const r = (await (await t.api('/api/memory-dumps/trigger', json({ vm_ids: [NAME, second.name], format: 'kdump-zlib' }))).json()) as any;
      expect(r.dump_ids).toHaveLength(2);
      const [a, b] = [await ended(t, r.dump_ids[0]), await ended(t, r.dump_ids[1])];
      expect([a.status, b.status]).toEqual(['completed', 'completed']);
      const [first, then] = [a, b].sort((x, y) => Date.parse(x.started_at) - Date.parse(y.started_at));
      // The second started only after the first had ended.
      expect(Date.parse(then.started_at)).toBeGreaterThanOrEqual(Date.parse(first.finished_at));

      // Room for one guest's memory, not two: while the first dump is under way, the second is
      // refused (409, the seed's body) naming the dump that holds the room; nothing of it written.
      const st = statfsSync(dumps.dir);
      dumps.resize((st.blocks - st.bfree) * st.bsize + 192 * MIB); // what the two dumps wrote, and 192 MiB
      const free = statfsSync(dumps.dir).bavail * statfsSync(dumps.dir).bsize;
      expect(free).toBeGreaterThanOrEqual(MEMORY_MIB * MIB);
      expect(free).toBeLessThan(2 * MEMORY_MIB * MIB);
      const held = await trigger(t, 'kdump-zlib');
      const files = readdirSync(dumps.dir).filter((f) => f.endsWith('.mem.gz'));
      const refused = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [second.name], format: 'kdump-zlib' }));
      const body = (await refused.json()) as { detail: string };
      expect(refused.status, body.detail).toBe(409);
      expect(Object.keys(body)).toEqual(['detail']);
      const vm = t.app.services.vms.list({ name: second.name })[0]!;
      expect(body.detail).toMatch(
        new RegExp(`^No memory dump scheduled: ${vm.id}: not enough free space in DUMP_DIR \\(${dumps.dir}\\): [0-9.]+ GiB free, [0-9.]+ GiB of it still needed by 1 dump queued or running there \\(dump ${held} of VM ${NAME}\\), VM ${second.name} has 0\\.13 GiB of memory$`),
      );
      expect((await ended(t, held)).status).toBe('completed');
      expect(readdirSync(dumps.dir).filter((f) => f.endsWith('.mem.gz'))).toHaveLength(files.length + 1);
      expect(await t.app.db.prisma.memoryDump.count({ where: { vmName: second.name } })).toBe(1);
      // Once it has ended, its room is free: the same trigger passes.
      const after = await trigger(t, 'kdump-zlib', second.name);
      expect((await ended(t, after)).status).toBe('completed');
    } finally {
      await t.stop();
      await second.cleanup();
      dumps.release();
      data.rm();
    }
  }, 240_000);

  it('DUMP_TIMEOUT stops the dump: status timeout, no file', async () => {
    const { dir, rm } = dataDir('dumpt');
    const t = await startTestApp({ LIBVIRT_URI: 'qemu:///system', DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60', DUMP_TIMEOUT: '0.3' }, dir);
    try {
      await until('the inventory to see the guest', async () => t.app.services.vms.list({ name: NAME, state: 'running' })[0]);
      const d = await ended(t, await trigger(t, 'kdump-zlib'));
      expect(d.status).toBe('timeout');
      expect(d.error).toMatch(/timeout/);
      expect(nothingLeft(path.join(dir, 'dumps'))).toEqual([]);
      const s = (await (await t.api('/api/memory-dumps/status')).json()) as any;
      expect(s).toMatchObject({ status: 'timeout', error: expect.stringMatching(/timeout/) });
      expect((await virsh(['domstate', NAME])).trim()).toBe('running');
    } finally {
      await t.stop();
      rm();
    }
  }, 180_000);

  it('a server stopped mid-dump marks it interrupted and leaves no file', async () => {
    const { dir, rm } = dataDir('dumpr');
    const env = { LIBVIRT_URI: 'qemu:///system', DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60' };
    let t = await startTestApp(env, dir);
    await until('the inventory to see the guest', async () => t.app.services.vms.list({ name: NAME, state: 'running' })[0]);
    const id = await trigger(t, 'kdump-zlib');
    await until('the dump to run', async () => ((await record(t, id)).status === 'running' ? true : undefined), 30_000);
    await t.stop();
    t = await startTestApp(env, dir);
    try {
      const d = await record(t, id);
      expect(d.status).toBe('interrupted');
      expect(d.error).toMatch(/interrupted/);
      expect(nothingLeft(path.join(dir, 'dumps'))).toEqual([]);
    } finally {
      await t.stop();
      rm();
    }
  }, 180_000);
});

describe('a remote host over qemu+ssh (sshd on 127.0.0.1 with a generated key)', () => {
  let ssh: SshHost;
  let t: TestApp;
  let dumpDir: string;
  let data: ReturnType<typeof dataDir> | undefined;
  /** what vmpulse left in the remote pool's directory */
  const remoteLeft = () => (existsSync(REMOTE_DUMP_DIR) ? readdirSync(REMOTE_DUMP_DIR).filter((f) => f.startsWith(guest!.uuid)) : []);
  beforeAll(async () => {
    ssh = await startSshHost();
    data = dataDir('dumpssh');
    dumpDir = path.join(data.dir, 'dumps');
    t = await startTestApp({ LIBVIRT_URI: ssh.uri, DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60' }, data.dir);
    await until('the inventory to see the guest over ssh', async () => t.app.services.vms.list({ name: NAME, state: 'running' })[0]);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await ssh?.stop();
    data?.rm();
  });

  it('an ELF dump streamed back: hash, size, marker; the remote volume is deleted', async () => {
    const sub = collect<any>(t.ws(), 'subscription { dumpJobUpdated { id status progress { phase percent rawBytes } } }');
    await sleep(300);
    const id = await trigger(t);
    const d = await ended(t, id);
    expect(d, d.error).toMatchObject({ status: 'completed', format: 'elf', host_uri: ssh.uri });
    const h = createHash('sha256');
    const raw: Buffer[] = [];
    for await (const c of createReadStream(d.dump_path).pipe(createGunzip())) {
      h.update(c as Buffer);
      raw.push(c as Buffer);
    }
    const core = Buffer.concat(raw);
    expect(h.digest('hex')).toBe(d.sha256);
    expect(core.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(core.length).toBeGreaterThanOrEqual(MEMORY_MIB * 2 ** 20);
    expect(core.length).toBeLessThan(MEMORY_MIB * 2 ** 20 + 2 ** 20);
    expect(core.includes(`VMPULSE-RAM-MARKER:${MARKER}:WRITTEN-BY-INIT`)).toBe(true);
    expect(path.dirname(d.dump_path)).toBe(dumpDir);
    await until('the remote volume to be deleted', async () => (remoteLeft().length === 0 ? true : undefined), 10_000);
    const mine = sub.seen.map((m) => m.dumpJobUpdated).filter((j) => j.id === String(id));
    const bytes = mine.map((j) => j.progress.rawBytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(mine.at(-1)).toMatchObject({ status: 'completed', progress: { phase: 'done', percent: 100 } });
    sub.dispose();
  }, 180_000);

  it('cancel leaves no file on either side', async () => {
    const id = await trigger(t, 'kdump-zlib');
    await until('the dump to run', async () => ((await record(t, id)).status === 'running' ? true : undefined), 30_000);
    await t.api(`/api/memory-dumps/${id}/cancel`, { method: 'POST' });
    const d = await ended(t, id);
    expect(d.status).toBe('cancelled');
    await until('the remote volume to be deleted', async () => (remoteLeft().length === 0 ? true : undefined), 20_000);
    expect(nothingLeft(dumpDir).filter((f) => !f.endsWith('.mem.gz'))).toEqual([]);
    expect(nothingLeft(dumpDir).filter((f) => f.includes(`_${Math.floor(Date.parse(d.created_at) / 1000)}`))).toEqual([]);
  }, 120_000);
});
