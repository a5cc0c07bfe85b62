// libvirt's own jobs on a real QEMU/TCG guest become replication jobs by themselves: a block copy
// (`virsh blockcopy … --transient-job --bandwidth`) shows per-disk progress moving to completion
// in the VM's context, checked against virsh's own numbers; a save to file shows a memory transfer.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, GUESTS_DIR, run, startGuest, virsh, type Guest } from './guest/qemu-guest.js';

const NAME = `vmpulse-mig-${process.pid}`;
const COPY = join(GUESTS_DIR, `${NAME}-copy.qcow2`);
const SAVED = join(GUESTS_DIR, `${NAME}.save`);
let t: TestApp;
let guest: Guest | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  t = await startTestApp({ LIBVIRT_URI: 'qemu:///system', MIGRATION_SCAN_INTERVAL: '2', MIGRATION_JOB_POLL: '0.5', POLL_INTERVAL: '5' });
  guest = await createGuest(NAME);
  await startGuest(NAME);
  while (!t.app.services.vms.list({ state: 'running' }).some((v) => v.name === NAME)) await sleep(200);
}, 30 * 60_000);

afterAll(async () => {
  await guest?.cleanup();
  rmSync(COPY, { force: true });
  rmSync(SAVED, { force: true });
  await t?.stop();
});

const UPDATE = `subscription { replicationJobUpdated { event
  context { vmName sourceHost sourceVmId source currentStatus totalJobsRun successfulJobs vm { name } }
  job { id replicationType status progressPercent bytesTransferred totalBytes currentOperation
        disks { diskId bytesSynced capacityBytes syncProgressPercent syncStatus }
        steps { name state } } } }`;

describe('libvirt jobs on a real guest', () => {
  it('a block copy shows per-disk progress moving to completion in its context', async () => {
    const sub = collect(t.ws(), UPDATE);
    const capacity = Number(/Capacity:\s+(\d+)/.exec(await virsh(['domblkinfo', NAME, 'vda']))![1]);
    const copy = await run('timeout', ['180', 'virsh', '-c', 'qemu:///system', 'blockcopy', NAME, 'vda', COPY, '--wait', '--verbose', '--finish', '--transient-job', '--bandwidth', '8'], 200_000);
    expect(copy.stdout).toMatch(/Successfully copied/);
    const done = await sub.next((u: any) => u.replicationJobUpdated.context.vmName === NAME && u.replicationJobUpdated.event === 'completed', 30_000);
    const mine = sub.seen.map((u: any) => u.replicationJobUpdated).filter((u: any) => u.context.vmName === NAME && u.job?.replicationType === 'block_copy');

    expect(mine[0].event).toBe('started');
    expect(mine[0].context).toMatchObject({ source: 'libvirt', sourceVmId: guest!.uuid, vm: { name: NAME } });
    const progress = mine.filter((u: any) => u.event === 'progress').map((u: any) => u.job.disks.find((d: any) => d.diskId === 'vda'));
    // moving: several distinct values between 0 and the end, never backwards
    const synced = progress.map((d: any) => Number(d.bytesSynced));
    expect(new Set(synced.filter((b: number, i: number) => b > 0 && b < Number(progress[i].capacityBytes))).size).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < synced.length; i++) expect(synced[i]).toBeGreaterThanOrEqual(synced[i - 1]!);
    // to completion: the copy moved at least the whole disk as virsh sizes it (more when the guest
    // wrote during the copy: libvirt's job end grows with the blocks dirtied meanwhile)
    const end = done.replicationJobUpdated;
    expect(end.job).toMatchObject({ status: 'completed', progressPercent: 100 });
    const total = Number(end.job.totalBytes);
    expect(total).toBeGreaterThanOrEqual(capacity);
    expect(end.job.disks).toEqual([expect.objectContaining({ diskId: 'vda', bytesSynced: String(total), capacityBytes: String(total), syncStatus: 'completed', syncProgressPercent: 100 })]);
    expect(end.job.steps.every((s: any) => s.state === 'completed')).toBe(true);
    expect(end.context).toMatchObject({ currentStatus: 'completed', successfulJobs: 1 });

    // the seed's read API shows it too
    const detail = await (await t.api(`/api/v1/vm-contexts/${NAME}`)).json();
    expect(detail.job_history[0]).toMatchObject({ replication_type: 'block_copy', status: 'completed', total_bytes: total, bytes_transferred: total });
    sub.dispose();
  }, 300_000);

  it('a save to file shows a memory transfer', async () => {
    const sub = collect(t.ws(), UPDATE);
    await virsh(['save', NAME, SAVED], 120);
    const done = await sub.next((u: any) => u.replicationJobUpdated.context.vmName === NAME && u.replicationJobUpdated.job?.replicationType === 'save' && u.replicationJobUpdated.event === 'completed', 60_000);
    const job = done.replicationJobUpdated.job;
    expect(job.status).toBe('completed');
    expect(Number(job.totalBytes)).toBeGreaterThan(0);
    expect(job.steps.map((s: any) => s.name)).toEqual(['Initialize', 'Memory transfer', 'Finalize']);
    sub.dispose();
  }, 180_000);
});
