// Free space in DUMP_DIR is checked against the guest's memory before a dump: DUMP_DIR here is a
// real small file system (a tmpfs whose size we set, so `statfs` reports what we chose), the
// test driver's guests used have 2 and 8 GiB of memory (the fleet file is the oracle). Too little space →
// refused in the seed's error body, nothing written, no record half made; enough → it runs.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoDomains, writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { mountTmpfs, type Tmpfs } from './helpers/dump-dir.js';
import { until } from './helpers/faults.js';

const GIB = 2 ** 30;
const FLEET = { count: 8, prefix: 'space-' };
/** a running guest of the fleet file with this much memory */
const guestOf = (gib: number) => demoDomains(FLEET).find((d) => d.running && d.memoryKiB === gib * 2 ** 20)!.name;
let t: TestApp;
let dir: string;
let dumps: Tmpfs;
let mnt: string;
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumpspace-'));
  chmodSync(dir, 0o755);
  dumps = mountTmpfs(path.join(dir, 'dumps'), GIB);
  mnt = dumps.dir;
  const fleet = writeDemoFleet(path.join(dir, 'fleet.xml'), FLEET);
  t = await startTestApp({ LIBVIRT_URI: fleet, DUMP_DIR: mnt, DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60' }, dir);
}, 60_000);

afterAll(async () => {
  await t?.stop();
  dumps?.release();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('too little free space in DUMP_DIR: refused with the reason, nothing written, no record; enough: it runs', async () => {
  const vms = ((await (await t.api('/api/telemetry/live-vms')).json()) as any).vms as { id: number; name: string }[];
  const small = vms.find((v) => v.name === guestOf(2))!;
  const big = vms.find((v) => v.name === guestOf(8))!;
  expect(statfsSync(mnt).bavail * statfsSync(mnt).bsize).toBe(GIB);

  // 1 GiB free: neither fits. 409 in the seed's error body, naming the directory and both sizes.
  const r = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [small.name, big.name] }));
  expect(r.status).toBe(409);
  const body = (await r.json()) as { detail: string };
  expect(Object.keys(body)).toEqual(['detail']);
  expect(body.detail).toContain(`${small.id}: not enough free space in DUMP_DIR (${mnt}): 1.00 GiB free, VM ${small.name} has 2.00 GiB of memory`);
  expect(body.detail).toContain(`${big.id}: not enough free space in DUMP_DIR (${mnt}): 1.00 GiB free, VM ${big.name} has 8.00 GiB of memory`);
  // Nothing written, no dump recorded (queued or otherwise), no job queued; /status tells why.
  expect(readdirSync(mnt)).toEqual([]);
  expect(await t.app.db.prisma.memoryDump.count()).toBe(0);
  expect(((await (await t.api('/api/memory-dumps/records')).json()) as any).count).toBe(0);
  const jobs = await t.app.db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'memory-dump%'`);
  expect(jobs[0]!.n).toBe(0);
  const s = (await (await t.api('/api/memory-dumps/status')).json()) as any;
  expect(s).toMatchObject({ status: 'error', vm_ids: [small.name, big.name] });
  expect(s.error).toContain('not enough free space in DUMP_DIR');

  // 4 GiB: the 2 GiB guest fits and is dumped, the 8 GiB one is refused beside it (200, `refused`).
  dumps.resize(4 * GIB);
  const ok = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [small.name, big.name] }));
  expect(ok.status).toBe(200);
  const okBody = (await ok.json()) as any;
  expect(okBody.dump_ids).toHaveLength(1);
  expect(okBody.refused).toEqual([{ vm_id: String(big.id), reason: `not enough free space in DUMP_DIR (${mnt}): 4.00 GiB free, VM ${big.name} has 8.00 GiB of memory` }]);
  const done = await until('the dump to end', async () => {
    const d = (await (await t.api(`/api/memory-dumps/${okBody.dump_ids[0]}`)).json()) as any;
    return ['queued', 'running'].includes(d.status) ? undefined : d;
  });
  expect(done).toMatchObject({ status: 'completed', vm_id: small.id });
  expect(readdirSync(mnt)).toEqual([path.basename(done.dump_path)]);
  expect(await t.app.db.prisma.memoryDump.count()).toBe(1);
}, 60_000);
