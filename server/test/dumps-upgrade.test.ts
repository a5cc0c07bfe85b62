// The upgrade from versions with one shared pg-boss queue (`memory-dump`) to a queue per host:
// jobs an older version left in the shared queue (put there with pg-boss, as that version did)
// are not lost at the next start. A dump still waiting runs on its host's queue; one a worker of
// the old process had fetched is interrupted; one whose host is no longer monitored fails with
// that reason; the old queue is gone; no VM stays blocked by a dump stuck in `queued`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PgBoss from 'pg-boss';
import { expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp } from './helpers/app.js';
import { until } from './helpers/faults.js';

const OLD_QUEUE = 'memory-dump';
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

it('jobs left in the old shared queue: the waiting one runs, the fetched one is interrupted, the one of a gone host fails; the old queue is dropped', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumpupgrade-'));
  const env = { LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 4, prefix: 'upg-' }), POLL_INTERVAL: '60', DUMP_MIN_INTERVAL: '0' };
  let a = await startTestApp(env, dir);
  const [v1, v2, v3] = a.app.services.vms.list({ state: 'running' });
  expect(v3).toBeDefined();
  const host = a.app.services.hosts.get(v1!.hostId)!;
  const prisma = a.app.db.prisma;
  const trigger = await prisma.dumpTrigger.create({ data: { vmIds: [v1!.name, v2!.name, v3!.name], triggeredBy: 'old version', refused: [] } });
  const queued = (vm: typeof v1, hostName: string, hostUri: string) =>
    prisma.memoryDump.create({
      data: { triggerId: trigger.id, vmId: vm!.id, vmName: vm!.name, hostName, hostUri, domainUuid: vm!.uuid, format: 'test-driver', status: 'queued', triggeredBy: 'old version', path: path.join(dir, 'dumps', `${vm!.id}_1.mem.gz`) },
    });
  const waiting = await queued(v1, host.name, host.uri);
  const fetched = await queued(v2, host.name, host.uri);
  // A VM of a host vmpulse monitors no more: neither it nor its host is known now.
  const goneHost = await queued({ ...v3!, id: 999_999, name: 'gone-vm' }, 'gone', 'qemu+ssh://root@gone.example/system');

  // What the old version did: one queue, a job per dump; a worker of it had fetched one when it stopped.
  const boss = new PgBoss({ connectionString: a.app.db.url });
  // its pool's idle clients see the embedded server stop (57P01) after boss.stop(): not a failure of the test
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue(OLD_QUEUE, { name: OLD_QUEUE, policy: 'standard', retryLimit: 0, expireInSeconds: 420 });
  const jobOf = new Map<number, string>();
  for (const d of [fetched, waiting, goneHost]) {
    const id = (await boss.send(OLD_QUEUE, { dumpId: d.id }, { retryLimit: 0, expireInSeconds: 420 }))!;
    jobOf.set(d.id, id);
    await prisma.memoryDump.update({ where: { id: d.id }, data: { jobId: id } });
    if (d === fetched) expect((await boss.fetch(OLD_QUEUE))[0]!.id).toBe(id);
  }
  await boss.stop({ graceful: false, wait: true });
  await a.stop();

  a = await startTestApp(env, dir);
  try {
    const dump = async (id: number) => (await (await a.api(`/api/memory-dumps/${id}`)).json()) as any;
    const done = await until('the waiting dump to run', async () => {
      const d = await dump(waiting.id);
      return ['queued', 'running'].includes(d.status) ? undefined : d;
    });
    expect(done).toMatchObject({ status: 'completed', error: null, vm_id: v1!.id });
    expect(await dump(fetched.id)).toMatchObject({ status: 'interrupted', error: 'interrupted: the server stopped before this dump started' });
    expect(await dump(goneHost.id)).toMatchObject({
      status: 'failed',
      error: 'queued before vmpulse was upgraded, for host gone (qemu+ssh://root@gone.example/system), which is no longer monitored',
    });
    // The old queue and its jobs are gone.
    const left = await a.app.db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT (SELECT count(*) FROM pgboss.queue WHERE name = $1) + (SELECT count(*) FROM pgboss.job WHERE name = $1) AS n`, OLD_QUEUE);
    expect(Number(left[0]!.n)).toBe(0);
    // No VM is held by a dump stuck in `queued`: the VM of the interrupted one is dumped again.
    const again = await a.api('/api/memory-dumps/trigger', json({ vm_ids: [v2!.name] }));
    expect(again.status, await again.clone().text()).toBe(200);
    const [againId] = ((await again.json()) as any).dump_ids;
    await until('that dump to end', async () => !['queued', 'running'].includes((await dump(againId)).status));
  } finally {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
