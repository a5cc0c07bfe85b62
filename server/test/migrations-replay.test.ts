// `npm run replay`'s scenario against a real server: replicationJobUpdated delivers every report of
// the replay, in the order the replay made them, and the end state (counters, history, CBT, the
// cutover) is what the replay did. Also: a context ties itself to a monitored VM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay, type ReplayStep } from '../src/cli/replay-scenario.js';
import { ADMIN, collect, startTestApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ LIBVIRT_URI: 'test:///default' });
});
afterAll(() => t?.stop());

const UPDATE = `subscription($vm: String) { replicationJobUpdated(vmName: $vm) {
  event context { vmName currentStatus totalJobsRun successfulJobs failedJobs replayed }
  job { id status bytesTransferred progressPercent replayed transferSpeedBps etaSeconds steps { name state } }
} }`;

describe('replicationJobUpdated follows a replay', () => {
  it('delivers the current state first, then every report in order', async () => {
    const vm = 'replayed-vm';
    // a context that exists already: its current state is the first message, so the stream is live
    await t.api('/api/v1/vm-contexts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vm_name: 'probe' }) });
    const sub = collect(t.ws(), UPDATE, {});
    await sub.next((u: any) => u.replicationJobUpdated.event === 'current' && u.replicationJobUpdated.context.vmName === 'probe');
    const steps = await runReplay({ url: t.url, token: ADMIN, speed: 1000, vmName: vm });
    const lastJob = steps[steps.length - 1]!.jobId!;
    await sub.next((u: any) => u.replicationJobUpdated.event === 'completed' && u.replicationJobUpdated.job?.id === lastJob);
    const got = sub.seen.map((u: any) => u.replicationJobUpdated).filter((u: any) => u.context.vmName === vm);

    // one message per accepted report, in the same order, with the same job and bytes
    const kindOf: Record<string, ReplayStep['kind']> = { context: 'context', started: 'start', progress: 'progress', cbt: 'cbt', completed: 'complete', failed: 'fail' };
    expect(got.map((u: any) => kindOf[u.event])).toEqual(steps.map((s) => s.kind));
    got.forEach((u: any, i: number) => {
      const s = steps[i]!;
      if (s.jobId) expect(u.job.id, `message ${i}`).toBe(s.jobId);
      if (s.bytes !== undefined) expect(Number(u.job.bytesTransferred), `message ${i}`).toBe(s.bytes);
      expect(u.context.replayed).toBe(true);
      if (u.job) expect(u.job.replayed).toBe(true);
    });
    // progress only grows within a job, and throughput appears once two reports exist
    const progress = got.filter((u: any) => u.event === 'progress');
    for (let i = 1; i < progress.length; i++) {
      if (progress[i].job.id === progress[i - 1].job.id) expect(Number(progress[i].job.bytesTransferred)).toBeGreaterThanOrEqual(Number(progress[i - 1].job.bytesTransferred));
    }
    expect(progress.some((u: any) => Number(u.job.transferSpeedBps) > 0 && u.job.etaSeconds !== null)).toBe(true);
    // the end: 5 jobs, 4 good, 1 failed, cut over
    const end = got[got.length - 1];
    expect(end.context).toMatchObject({ currentStatus: 'failed_over', totalJobsRun: 5, successfulJobs: 4, failedJobs: 1 });
    expect(end.job.steps.map((s: any) => s.name)).toEqual(['Initialize', 'CBT sync', 'Disk transfer', 'Cutover', 'Finalize']);
    expect(end.job.steps.every((s: any) => s.state === 'completed')).toBe(true);
    // the failed job's steps: the running one failed, the rest skipped
    const failed = got.find((u: any) => u.event === 'failed').job;
    expect(failed.steps.map((s: any) => s.state)).toEqual(['completed', 'completed', 'failed', 'skipped']);

    // a second subscriber to this context gets its current state first
    const one = collect(t.ws(), UPDATE, { vm });
    const first = await one.next(() => true);
    expect(first.replicationJobUpdated).toMatchObject({ event: 'current', context: { vmName: vm, currentStatus: 'failed_over' }, job: { id: lastJob, status: 'completed' } });

    // the seed's read API tells the same story
    const detail = await (await t.api(`/api/v1/vm-contexts/${vm}`)).json();
    expect(detail.current_job).toBeNull();
    expect(detail.job_history.map((j: any) => j.status)).toEqual(['completed', 'completed', 'failed', 'completed', 'completed']);
    expect(detail.cbt_history).toHaveLength(8); // 4 successful jobs × 2 disks
    expect(detail.disks.map((d: any) => d.sync_status)).toEqual(['completed', 'completed']);
  });

  it('an unknown context is refused with the seed\'s message', async () => {
    const r = await t.gql(`subscription { replicationJobUpdated(vmName: "nope") { event } }`);
    expect(JSON.stringify(r.body)).toMatch(/VM context not found for: nope/);
  });
});

describe('a context tied to a monitored VM', () => {
  it('by host + uuid, else by name: Vm.migrationContext and MigrationContext.vm', async () => {
    const vm = t.app.services.vms.list()[0]!;
    const report = (body: object) => t.api('/api/v1/vm-contexts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // by name
    expect((await report({ vm_name: vm.name })).status).toBe(200);
    const q = `query($id: ID!) { vm(id: $id) { name migrationContext { vmName vm { id } } } }`;
    let r = await t.gql(q, { id: String(vm.id) });
    expect(r.body.data.vm.migrationContext).toEqual({ vmName: vm.name, vm: { id: String(vm.id) } });
    // by host + uuid: a context under another name, with the VM's uuid on its host
    expect((await report({ vm_name: `${vm.name}-renamed-source`, vmware_vm_id: vm.uuid.toUpperCase(), vcenter_host: vm.hostName })).status).toBe(200);
    r = await t.gql(q, { id: String(vm.id) });
    expect(r.body.data.vm.migrationContext.vmName).toBe(`${vm.name}-renamed-source`);
    // a context of a VM nobody monitors has no VM
    expect((await report({ vm_name: 'vmware-only' })).status).toBe(200);
    const c = await t.gql(`{ migrationContext(vmName: "vmware-only") { vm { id } } }`);
    expect(c.body.data.migrationContext.vm).toBeNull();
  });
});
