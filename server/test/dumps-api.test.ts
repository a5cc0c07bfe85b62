// Memory dumps on libvirt's test driver through REST (seed 003): the whole flow, statuses, stats,
// paging, custody, the seed's error bodies, bad input. The test driver has no memory-only dumps:
// its dumps are its 15-byte placeholder, recorded with format `test-driver` (checked below).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, type TestApp } from './helpers/app.js';

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

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumps-'));
  dumpDir = path.join(dir, 'dumps');
  t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 6 }), DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60' }, dir);
});
afterAll(() => t?.stop());

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
