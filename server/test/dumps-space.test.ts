// Free space in DUMP_DIR is checked against the guest's memory before a dump: DUMP_DIR here is a
// real small file system (a tmpfs whose size we set, so `statfs` reports what we chose), the
// test driver's guests used have 2 and 8 GiB of memory (the fleet file is the oracle). Too little space →
// refused in the seed's error body, nothing written, no record half made; enough → it runs. The
// dumps ahead (running, or queued before) hold the room they will still write: three 2 GiB guests
// onto 5 GiB free, or a second dump while a first is queued, do not all pass and fill the disk.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoDomains, writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { mountTmpfs, type Tmpfs } from './helpers/dump-dir.js';
import { until } from './helpers/faults.js';

const GIB = 2 ** 30;
const FLEET = { count: 24, prefix: 'space-' };
/** the running guests of the fleet file with this much memory */
const guestsOf = (gib: number) => demoDomains(FLEET).filter((d) => d.running && d.memoryKiB === gib * 2 ** 20).map((d) => d.name);
const guestOf = (gib: number) => guestsOf(gib)[0]!;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;
const freeIn = (dir: string) => Number(statfsSync(dir).bavail) * Number(statfsSync(dir).bsize);
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

it('the dumps ahead hold their room: of three 2 GiB guests onto 5 GiB, two are queued and the third refused; a dump queued before makes the next one 409', async () => {
  const vms = ((await (await t.api('/api/telemetry/live-vms')).json()) as any).vms as { id: number; name: string }[];
  const [a, b, c] = guestsOf(2).map((n) => vms.find((v) => v.name === n)!);
  expect(c).toBeDefined();
  dumps.resize(5 * GIB);
  const filesBefore = readdirSync(mnt);
  const free = freeIn(mnt);
  expect(free).toBeGreaterThan(4 * GIB); // each fits alone
  expect(free).toBeLessThan(6 * GIB); // not all three together

  // One trigger: a and b fit one after the other (4 GiB held); c would need 6.
  const r = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [a!.name, b!.name, c!.name] }));
  const body = (await r.json()) as any;
  expect(r.status, JSON.stringify(body)).toBe(200);
  expect(body.refused).toEqual([
    {
      vm_id: String(c!.id),
      reason: `not enough free space in DUMP_DIR (${mnt}): ${gib(free)} free, 4.00 GiB of it still needed by 2 dumps queued or running there (VM ${a!.name} (this trigger), VM ${b!.name} (this trigger)), VM ${c!.name} has 2.00 GiB of memory`,
    },
  ]);
  expect(body.dump_ids).toHaveLength(2);
  // The two accepted ones each count the other when they start, not themselves: both complete.
  for (const id of body.dump_ids) {
    const d = await until(`dump ${id} to end`, async () => {
      const x = (await (await t.api(`/api/memory-dumps/${id}`)).json()) as any;
      return ['queued', 'running'].includes(x.status) ? undefined : x;
    });
    expect(d, d.error).toMatchObject({ status: 'completed' });
  }
  expect(readdirSync(mnt)).toHaveLength(filesBefore.length + 2);

  // A dump of a queued before on this DUMP_DIR (as another replica records one it queued, whose
  // worker has not fetched it yet: test-driver dumps end in milliseconds here). 3 GiB free, 2 held.
  dumps.resize(3 * GIB);
  const prisma = t.app.db.prisma;
  const trig = await prisma.dumpTrigger.create({ data: { vmIds: [a!.name], triggeredBy: 'other replica', refused: [] } });
  const host = t.app.services.hosts.get(t.app.services.vms.get(a!.id)!.hostId)!;
  const queued = await prisma.memoryDump.create({
    data: { triggerId: trig.id, vmId: a!.id, vmName: a!.name, hostName: host.name, hostUri: host.uri, domainUuid: t.app.services.vms.get(a!.id)!.uuid, format: 'test-driver', status: 'queued', triggeredBy: 'other replica', path: path.join(mnt, `${a!.id}_1.mem.gz`) },
  });
  const dumpsBefore = await prisma.memoryDump.count();
  const jobsBefore = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'memory-dump%'`);
  const files = readdirSync(mnt);
  const free3 = freeIn(mnt);
  const refused = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [b!.name] }));
  expect(refused.status).toBe(409);
  const refusedBody = (await refused.json()) as { detail: string };
  expect(Object.keys(refusedBody)).toEqual(['detail']);
  expect(refusedBody.detail).toBe(
    `No memory dump scheduled: ${b!.id}: not enough free space in DUMP_DIR (${mnt}): ${gib(free3)} free, 2.00 GiB of it still needed by 1 dump queued or running there (dump ${queued.id} of VM ${a!.name}), VM ${b!.name} has 2.00 GiB of memory`,
  );
  // Nothing written, no record, no job.
  expect(readdirSync(mnt)).toEqual(files);
  expect(await prisma.memoryDump.count()).toBe(dumpsBefore);
  const jobsAfter = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'memory-dump%'`);
  expect(jobsAfter[0]!.n).toBe(jobsBefore[0]!.n);

  // Once the dump ahead ends, its room is free again: the same trigger passes and completes.
  await prisma.memoryDump.update({ where: { id: queued.id }, data: { status: 'cancelled', finishedAt: new Date() } });
  const ok = await t.api('/api/memory-dumps/trigger', json({ vm_ids: [b!.name] }));
  const okBody = (await ok.json()) as any;
  expect(ok.status, JSON.stringify(okBody)).toBe(200);
  const done = await until('the dump to end', async () => {
    const x = (await (await t.api(`/api/memory-dumps/${okBody.dump_ids[0]}`)).json()) as any;
    return ['queued', 'running'].includes(x.status) ? undefined : x;
  });
  expect(done).toMatchObject({ status: 'completed', vm_id: b!.id });
}, 60_000);
