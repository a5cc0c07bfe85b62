// Dump retention on the test driver: DUMP_RETENTION_COUNT keeps the newest files; the older ones
// are deleted from DUMP_DIR and their records stay, marked `deleted` (still in /records, not in
// total_size_bytes).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp } from './helpers/app.js';
import { roomyDumpDir } from './helpers/dump-dir.js';

it('DUMP_RETENTION_COUNT=2: the oldest files go, their records say deleted', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumps-ret-'));
  const room = roomyDumpDir(dir); // the fleet's guests (up to 8 GiB) fit whatever the disk has free
  const t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 4 }), DUMP_DIR: room.dir, DUMP_MIN_INTERVAL: '0', DUMP_RETENTION_COUNT: '2', POLL_INTERVAL: '60' }, dir);
  try {
    const ids: number[] = [];
    for (const vm of t.app.services.vms.list({ state: 'running' }).slice(0, 4)) {
      const r = (await (await t.api('/api/memory-dumps/trigger', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vm_ids: [String(vm.id)] }) })).json()) as any;
      const id = r.dump_ids[0] as number;
      for (let i = 0; i < 200 && ['queued', 'running'].includes(((await (await t.api(`/api/memory-dumps/${id}`)).json()) as any).status); i++) await new Promise((res) => setTimeout(res, 50));
      ids.push(id);
    }
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const dumps = await Promise.all(ids.map(async (id) => (await (await t.api(`/api/memory-dumps/${id}`)).json()) as any));
    const kept = dumps.slice(-2);
    const gone = dumps.slice(0, -2);
    for (const d of kept) {
      expect(d.status).toBe('completed');
      expect(existsSync(d.dump_path)).toBe(true);
    }
    for (const d of gone) {
      expect(d.status).toBe('deleted');
      expect(d.deleted_at).not.toBeNull();
      expect(existsSync(d.dump_path)).toBe(false);
    }
    const rec = (await (await t.api('/api/memory-dumps/records')).json()) as any;
    expect(rec.count).toBe(dumps.length);
    const stats = (await (await t.api('/api/memory-dumps/stats')).json()) as any;
    expect(stats.total_dumps).toBe(dumps.length);
    expect(stats.total_size_bytes).toBe(kept.reduce((a: number, d: any) => a + d.gzip_size_bytes, 0));
    // A deleted dump has no file to download or verify.
    expect((await t.api(`/api/memory-dumps/${gone[0].id}/download`)).status).toBe(409);
    expect((await t.api(`/api/memory-dumps/${gone[0].id}/verify`, { method: 'POST' })).status).toBe(409);
  } finally {
    await t.stop();
    room.release();
    rmSync(dir, { recursive: true, force: true });
  }
});
