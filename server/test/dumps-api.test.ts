// Memory dumps on libvirt's test driver through REST (seed 003): the whole flow, statuses, stats,
// paging, custody, the seed's error bodies, bad input. The test driver has no memory-only dumps:
// its dumps are its 15-byte placeholder, recorded with format `test-driver` (checked below).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startInfluxFake } from './fakes/influxdb3-fake.js';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { roomyDumpDir } from './helpers/dump-dir.js';

let t: TestApp;
let dumpDir: string;
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const dumpOf = async (id: number) => (await (await t.api(`/api/memory-dumps/${id}`)).json()) as any;
const ended = (id: number) => waitFor(`dump ${id} to end`, async () => {
  const d = await dumpOf(id);
  return ['queued', 'running'].includes(d.status) ? undefined : d;
});

let room: ReturnType<typeof roomyDumpDir> | undefined;
let dir: string | undefined;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumps-'));
  // Every guest of the fleet (up to 16 GiB) must fit, whatever the disk has free.
  room = roomyDumpDir(dir);
  dumpDir = room.dir;
  t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 6 }), DUMP_DIR: dumpDir, DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60' }, dir);
});
afterAll(async () => {
  await t?.stop();
  room?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('memory dumps on the test driver', () => {
  it('status is idle before any trigger', async () => {
    const r = await t.api('/api/memory-dumps/status');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ last_trigger: {}, status: 'idle', vm_ids: [], timestamp: null, duration: null, error: null });
  });

  it('trigger → scheduled → completed; record, file, hashes and custody agree', async () => {
    const vms = (await (await t.api('/api/telemetry/live-vms')).json()) as any;
    const vm = vms.vms[0];
    const r = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [String(vm.id)] }));
    expect(r.status).toBe(200);
    const body = (await r.json()) as any;
    expect(body).toMatchObject({ status: 'scheduled', message: 'Memory dump scheduled for 1 VM(s)', vm_ids: [String(vm.id)] });
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const [id] = body.dump_ids;
    const d = await ended(id);
    expect(d).toMatchObject({ status: 'completed', format: 'test-driver', vm_id: vm.id, dom: vm.name, triggered_by: 'VMPULSE_ADMIN_TOKEN', error: null });
    expect(d.progress).toMatchObject({ phase: 'done', percent: 100 });
    // the file: <DUMP_DIR>/<vmid>_<unix>.mem.gz, 0600, nothing else left behind
    expect(path.basename(d.dump_path)).toMatch(new RegExp(`^${vm.id}_\\d{10}\\.mem\\.gz$`));
    expect(path.dirname(d.dump_path)).toBe(dumpDir);
    expect(statSync(d.dump_path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dumpDir).filter((f) => f.startsWith('.'))).toEqual([]);
    const gz = readFileSync(d.dump_path);
    expect(sha(gz)).toBe(d.gzip_sha256);
    const raw = gunzipSync(gz);
    expect(sha(raw)).toBe(d.sha256);
    expect(d.raw_size_bytes).toBe(raw.length);
    expect(d.gzip_size_bytes).toBe(gz.length);
    // download: streamed with its length and hash, logged
    const dl = await t.api(`/api/memory-dumps/${id}/download`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-length')).toBe(String(gz.length));
    expect(dl.headers.get('x-content-sha256')).toBe(d.gzip_sha256);
    expect(sha(Buffer.from(await dl.arrayBuffer()))).toBe(d.gzip_sha256);
    const v = (await (await t.api(`/api/memory-dumps/${id}/verify`, { method: 'POST' })).json()) as any;
    expect(v).toMatchObject({ id, ok: true, sha256: d.sha256, gzip_sha256: d.gzip_sha256 });
    const after = await waitFor('the download in custody', async () => {
      const x = await dumpOf(id);
      return x.downloads.length ? x : undefined;
    });
    expect(after.downloads).toEqual([expect.objectContaining({ who: 'VMPULSE_ADMIN_TOKEN', ok: true })]);
    expect(after.verifications).toEqual([expect.objectContaining({ who: 'VMPULSE_ADMIN_TOKEN', ok: true })]);
    // a changed file fails verification
    writeFileSync(d.dump_path, Buffer.concat([gz, Buffer.from([0])]));
    const bad = (await (await t.api(`/api/memory-dumps/${id}/verify`, { method: 'POST' })).json()) as any;
    expect(bad.ok).toBe(false);
    writeFileSync(d.dump_path, gz);
    // status, records, stats
    const s = (await (await t.api('/api/memory-dumps/status')).json()) as any;
    expect(s).toMatchObject({ status: 'completed', vm_ids: [String(vm.id)], error: null, last_trigger: { status: 'completed' } });
    expect(s.duration).toBeGreaterThanOrEqual(0);
    const rec = (await (await t.api('/api/memory-dumps/records?limit=1')).json()) as any;
    expect(rec).toMatchObject({ count: 1, limit: 1, offset: 0 });
    expect(rec.records[0]).toEqual({
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
      dom: vm.name,
      vmid: String(vm.id),
      sha256: d.sha256,
      duration_sec: d.duration_sec,
      gzip_size_bytes: gz.length,
      ctime: expect.any(Number),
      mtime: expect.any(Number),
      atime: expect.any(Number),
      dump_path: d.dump_path,
    });
  });
});

describe('paging, statuses and refusals', () => {
  it('records page newest first; limit and offset as the seed says', async () => {
    const vms = t.app.services.vms.list({ state: 'running' });
    const ids: number[] = [];
    for (const vm of vms) {
      const r = (await (await t.api('/api/memory-dumps/trigger', json({ vm_ids: [vm.name] }))).json()) as any;
      ids.push(...r.dump_ids);
      await ended(r.dump_ids[0]);
    }
    const all = (await (await t.api('/api/memory-dumps/records')).json()) as any;
    expect(all.limit).toBe(1000);
    expect(all.count).toBe(all.records.length);
    expect(all.count).toBeGreaterThanOrEqual(vms.length + 1);
    const stamps = all.records.map((r: any) => r.timestamp);
    expect(stamps).toEqual([...stamps].sort().reverse());
    const page = (await (await t.api('/api/memory-dumps/records?limit=2&offset=1')).json()) as any;
    expect(page).toMatchObject({ count: 2, limit: 2, offset: 1 });
    expect(page.records).toEqual(all.records.slice(1, 3));
    const beyond = (await (await t.api('/api/memory-dumps/records?offset=100000')).json()) as any;
    expect(beyond).toMatchObject({ records: [], count: 0, offset: 100000 });
    const stats = (await (await t.api('/api/memory-dumps/stats')).json()) as any;
    expect(stats).toMatchObject({ total_dumps: all.count, total_vms: vms.length });
    expect(stats.total_size_bytes).toBe(all.records.reduce((a: number, r: any) => a + r.gzip_size_bytes, 0));
    expect(stats.last_dump).toBe(all.records[0].timestamp);
  });

  it('"all" dumps every running VM; unknown references are reported without failing the others', async () => {
    const running = t.app.services.vms.list({ state: 'running' });
    const r = (await (await t.api('/api/memory-dumps/trigger', json({ vm_ids: ['all'] }))).json()) as any;
    expect(r.dump_ids).toHaveLength(running.length);
    for (const id of r.dump_ids) expect((await ended(id)).status).toBe('completed');
    const mixed = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [running[0]!.name, 'no-such-vm', 99999] }));
    const m = (await mixed.json()) as any;
    expect(mixed.status).toBe(200);
    expect(m.message).toBe('Memory dump scheduled for 1 VM(s); 2 refused');
    expect(m.vm_ids).toEqual([running[0]!.name, 'no-such-vm', '99999']);
    expect(m.refused).toEqual([
      { vm_id: 'no-such-vm', reason: 'VM "no-such-vm" not found' },
      { vm_id: '99999', reason: 'VM 99999 not found' },
    ]);
    await ended(m.dump_ids[0]);
    const s = (await (await t.api('/api/memory-dumps/status')).json()) as any;
    expect(s.status).toBe('completed');
    expect(s.error).toMatch(/no-such-vm/);
  });

  it('a trigger of unknown VMs only: 404 in the seed body, and /status says error', async () => {
    const r = await t.api('/api/memory-dumps/trigger', json({ vm_ids: ['nope-1', 'nope-2'] }));
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ detail: 'No memory dump scheduled: nope-1: VM "nope-1" not found; nope-2: VM "nope-2" not found' });
    const s = (await (await t.api('/api/memory-dumps/status')).json()) as any;
    expect(s).toMatchObject({ status: 'error', vm_ids: ['nope-1', 'nope-2'], last_trigger: { status: 'error' } });
  });

  it('every bad input: 400 in the seed body, nothing scheduled', async () => {
    const before = ((await (await t.api('/api/memory-dumps/records')).json()) as any).count;
    const cases: [RequestInit, RegExp][] = [
      [json({ vm_ids: [] }), /^No VM IDs specified$/],
      [json({}), /^No VM IDs specified$/],
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"vm_ids": [' }, /not valid JSON/],
      [json({ vm_ids: '101' }), /vm_ids/],
      [json({ vm_ids: [{}] }), /vm_ids/],
      [json({ vm_ids: [true] }), /vm_ids/],
      [json({ vm_ids: ['x'.repeat(256)] }), /vm_ids/],
      [json({ vm_ids: Array.from({ length: 1001 }, (_, i) => String(i)) }), /vm_ids/],
      [json({ vm_ids: ['1'], format: 'zip' }), /format/],
      [json({ vm_ids: ['bad\u0000name'] }), /invalid vm_id|No memory dump/],
    ];
    for (const [init, message] of cases) {
      const r = await t.api('/api/memory-dumps/trigger', init);
      const body = (await r.json()) as any;
      expect([400, 404], JSON.stringify(body)).toContain(r.status);
      expect(Object.keys(body)).toEqual(['detail']);
      expect(body.detail).toMatch(message);
    }
    const seed = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [] }));
    expect(seed.status).toBe(400);
    expect(await seed.json()).toEqual(JSON.parse(readFileSync(new URL('./fixtures/seeds/003-trigger.400.json', import.meta.url), 'utf8')));
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'offset=-1', 'limit=1.5', 'limit=1&limit=2']) {
      const r = await t.api(`/api/memory-dumps/records?${q}`);
      expect(r.status, q).toBe(400);
      expect(Object.keys((await r.json()) as object)).toEqual(['detail']);
    }
    for (const p of ['abc', '-1', '0x10', '1e3', '9999999999', '%00']) {
      for (const suffix of ['', '/download']) {
        const r = await t.api(`/api/memory-dumps/${p}${suffix}`);
        expect(r.status, p + suffix).toBe(400);
        expect(Object.keys((await r.json()) as object)).toEqual(['detail']);
      }
    }
    const missing = await t.api('/api/memory-dumps/999999');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: 'memory dump 999999 not found' });
    expect((await t.api('/api/memory-dumps/999999/verify', { method: 'POST' })).status).toBe(404);
    expect((await t.api('/api/memory-dumps/999999/cancel', { method: 'POST' })).status).toBe(404);
    expect((await t.api('/api/memory-dumps/status', { method: 'DELETE' })).status).toBe(405);
    expect(((await (await t.api('/api/memory-dumps/records')).json()) as any).count).toBe(before);
  });

  it('a viewer reads but cannot act', async () => {
    const v = (await t.gql('mutation { createToken(name: "dump viewer", role: viewer) { token } }')).body.data.createToken.token;
    expect((await t.api('/api/memory-dumps/records', { token: v })).status).toBe(200);
    const r = await t.api('/api/memory-dumps/trigger', { ...json({ vm_ids: ['all'] }), token: v });
    expect(r.status).toBe(403);
    expect(Object.keys((await r.json()) as object)).toEqual(['detail']);
    const g = await t.gql('mutation { triggerDumps(vmIds: ["all"]) { id } }', {}, v);
    expect(g.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('["all"] with no running VM the token may see: 409 saying so, nothing queued', async () => {
    const scope = { user: 'nobody-owns-this', group: null };
    const op = (await t.gql('mutation($s: TokenScopeInput) { createToken(name: "empty scope", role: operator, scope: $s) { token } }', { s: scope })).body.data.createToken.token;
    const before = ((await (await t.api('/api/memory-dumps/records')).json()) as any).count;
    const r = await t.api('/api/memory-dumps/trigger', { ...json({ vm_ids: ['all'] }), token: op });
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({ detail: 'No memory dump scheduled: all: no running VM is monitored (or visible to this token) to dump' });
    expect(((await (await t.api('/api/memory-dumps/records')).json()) as any).count).toBe(before);
  });

  it('GraphQL: triggerDumps, the subscription (current state first), dumps paging, Vm.dumps, verifyDump', async () => {
    const vm = t.app.services.vms.list({ state: 'running' })[1]!;
    const res = await t.gql(`mutation($v: [String!]!) { triggerDumps(vmIds: $v, format: KDUMP_ZLIB) { message dumps { id status format simulated } refused { vmRef reason } } }`, { v: [String(vm.id), 'ghost'] });
    const batch = res.body.data.triggerDumps;
    expect(batch.message).toBe('Memory dump scheduled for 1 VM(s); 1 refused');
    expect(batch.refused).toEqual([{ vmRef: 'ghost', reason: 'VM "ghost" not found' }]);
    expect(batch.dumps[0]).toMatchObject({ status: 'queued', format: 'test-driver', simulated: true });
    const id = batch.dumps[0].id;
    await ended(Number(id));
    const sub = collect<any>(t.ws(), 'subscription($id: ID) { dumpJobUpdated(id: $id) { id status progress { phase percent } } }', { id });
    const first = await sub.next(() => true);
    expect(first.dumpJobUpdated).toEqual({ id, status: 'completed', progress: { phase: 'done', percent: 100 } });
    sub.dispose();
    const page1 = (await t.gql('{ dumps(first: 2) { nodes { id } pageInfo { hasNextPage endCursor } totalCount } }')).body.data.dumps;
    const page2 = (await t.gql('query($a: String) { dumps(first: 2, after: $a) { nodes { id } } }', { a: page1.pageInfo.endCursor })).body.data.dumps;
    expect(page1.nodes).toHaveLength(2);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    expect(Number(page2.nodes[0].id)).toBeLessThan(Number(page1.nodes[1].id));
    const byVm = (await t.gql('query($v: String) { dumps(filter: { vm: $v }) { nodes { vmId } totalCount } }', { v: vm.name })).body.data.dumps;
    expect(byVm.nodes.every((n: any) => n.vmId === String(vm.id))).toBe(true);
    const vmDumps = (await t.gql('query($id: ID) { vm(id: $id) { dumps(first: 1) { id } } }', { id: String(vm.id) })).body.data.vm.dumps;
    expect(vmDumps).toEqual([{ id }]);
    const v = (await t.gql('mutation($id: ID!) { verifyDump(id: $id) { ok detail dump { custody { kind ok } } } }', { id })).body.data.verifyDump;
    expect(v.ok).toBe(true);
    expect(v.dump.custody.at(-1)).toEqual({ kind: 'verify', ok: true });
    const stats = (await t.gql('{ dumpStats { totalDumps totalVms totalSizeBytes } }')).body.data.dumpStats;
    expect(stats.totalDumps).toBeGreaterThan(0);
    for (const bad of ['{ dumps(first: 0) { totalCount } }', '{ dumps(first: 501) { totalCount } }', '{ dumps(after: "x") { totalCount } }', '{ dump(id: "-1") { id } }']) {
      const r = await t.gql(bad);
      expect(r.status, bad).toBe(400);
    }
  });
});

describe('DUMP_MIN_INTERVAL and a restart', () => {
  it('a VM dumped less than DUMP_MIN_INTERVAL ago is refused with the reason; a dump running at a crash is interrupted at the next start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumps-'));
    const room = roomyDumpDir(dir);
    const env = { LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 2 }), DUMP_DIR: room.dir, POLL_INTERVAL: '60' };
    let a = await startTestApp(env, dir);
    const vm = a.app.services.vms.list({ state: 'running' })[0]!;
    const r1 = (await (await a.api('/api/memory-dumps/trigger', json({ vm_ids: [vm.name] }))).json()) as any;
    const r2 = await a.api('/api/memory-dumps/trigger', json({ vm_ids: [vm.name] }));
    expect(r2.status).toBe(409);
    expect(((await r2.json()) as any).detail).toMatch(/already (queued|running)|DUMP_MIN_INTERVAL is 60 s/);
    const prisma = a.app.db.prisma;
    for (let i = 0; i < 100 && (await prisma.memoryDump.findUnique({ where: { id: r1.dump_ids[0] } }))!.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
    const r3 = await a.api('/api/memory-dumps/trigger', json({ vm_ids: [vm.name] }));
    expect(r3.status).toBe(409);
    expect(((await r3.json()) as any).detail).toMatch(/dumped \d+ s ago; DUMP_MIN_INTERVAL is 60 s, try again in \d+ s/);
    // A crash mid-dump: a record left running and its temporary file.
    const other = a.app.services.vms.list({ state: 'running' })[1]!;
    const finalPath = path.join(dir, 'dumps', `${other.id}_1.mem.gz`);
    const row = await prisma.memoryDump.create({
      data: { triggerId: r1.trigger_id ?? (await prisma.dumpTrigger.findFirst())!.id, vmId: other.id, vmName: other.name, hostName: 'demo', hostUri: 'test:///', domainUuid: other.uuid, format: 'elf', status: 'running', triggeredBy: 'x', path: finalPath, startedAt: new Date() },
    });
    await a.stop();
    writeFileSync(path.join(dir, 'dumps', `.${other.id}_1.mem.gz.part`), 'partial');
    a = await startTestApp(env, dir);
    try {
      const d = (await (await a.api(`/api/memory-dumps/${row.id}`)).json()) as any;
      expect(d).toMatchObject({ status: 'interrupted', error: 'interrupted: the server stopped while this dump ran' });
      expect(readdirSync(path.join(dir, 'dumps')).filter((f) => f.startsWith('.'))).toEqual([]);
    } finally {
      await a.stop();
      room.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('InfluxDB 3 (the fake)', () => {
  it('each finished dump is a row of mem_dumps with the seed fields', async () => {
    const fake = await startInfluxFake({ token: 'tok' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumps-'));
    const room = roomyDumpDir(dir);
    const a = await startTestApp({ LIBVIRT_URI: 'test:///default', INFLUX_URL: fake.url, INFLUX_TOKEN: 'tok', DUMP_DIR: room.dir, POLL_INTERVAL: '60' }, dir);
    try {
      const vm = a.app.services.vms.list({ state: 'running' })[0]!;
      const r = (await (await a.api('/api/memory-dumps/trigger', json({ vm_ids: [String(vm.id)] }))).json()) as any;
      let d: any;
      for (let i = 0; i < 200; i++) {
        d = (await (await a.api(`/api/memory-dumps/${r.dump_ids[0]}`)).json()) as any;
        if (d.status === 'completed' && fake.table('mem_dumps').length) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      const [row] = fake.table('mem_dumps');
      expect(row!.tags).toMatchObject({ dom: vm.name, vmid: String(vm.id), host: 'demo' });
      expect(row!.fields).toMatchObject({ sha256: d.sha256, dump_path: d.dump_path, duration_sec: d.duration_sec, format: 'test-driver' });
      expect(Number(row!.fields.gzip_size_bytes)).toBe(d.gzip_size_bytes);
      expect(row!.timeNs).toBe(BigInt(Date.parse(d.finished_at)) * 1_000_000n);
    } finally {
      await a.stop();
      await fake.close();
      room.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
