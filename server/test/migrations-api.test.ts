// Migration contexts (seed 004) end to end on a real server and PostgreSQL: the read API's field
// names and JSON types one by one against the seed's own examples, the replicators' reports and
// their refusals, the counters after success, failure and retry, cascade delete, and auth.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

const seed = (name: string): any => JSON.parse(readFileSync(new URL(`./fixtures/seeds/${name}.json`, import.meta.url), 'utf8'));

let t: TestApp;
let operator: string;
let viewer: string;

beforeAll(async () => {
  t = await startTestApp({ LIBVIRT_URI: 'test:///default' });
  const mk = async (role: string) => (await t.gql(`mutation { createToken(name: "mig-${role}", role: ${role}) { token } }`)).body.data.createToken.token as string;
  operator = await mk('operator');
  viewer = await mk('viewer');
});
afterAll(() => t?.stop());

const post = (path: string, body: unknown, token: string | null = operator) =>
  t.api(`/api/v1${path}`, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const GiB = 1024 ** 3;

/** The JSON type of a value as the seed's example writes it: float when the literal has a point. */
function jsonType(v: unknown, literal?: string): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return literal !== undefined && /\./.test(literal) ? 'float' : Number.isInteger(v) ? 'integer' : 'float';
  return typeof v;
}
/** The literal of each key's value in the seed text (first occurrence within the example). */
function literals(file: string): Map<string, string> {
  const text = readFileSync(new URL(`./fixtures/seeds/${file}.json`, import.meta.url), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/"(\w+)":\s*(-?[\d.]+|"[^"]*"|null|true|false)/g)) if (!out.has(m[1]!)) out.set(m[1]!, m[2]!);
  return out;
}
/** Fields whose seed table says float though the example writes an integer literal (0). */
const FLOAT_BY_TABLE = new Set(['sync_progress_percent', 'progress_percent']);
/** Fields the seed shows null but that carry a string when set. */
const NULLABLE = new Set(['current_job_id', 'last_successful_job_id', 'first_job_at', 'last_job_at', 'last_status_change', 'vma_last_poll_at', 'completed_at', 'vma_eta_seconds']);

function sameShape(actual: Record<string, unknown>, example: Record<string, unknown>, lits: Map<string, string>, where: string) {
  expect(Object.keys(actual).sort(), `${where}: field names`).toEqual(Object.keys(example).sort());
  for (const [k, ex] of Object.entries(example)) {
    const a = actual[k];
    const want = FLOAT_BY_TABLE.has(k) ? 'float' : jsonType(ex, lits.get(k));
    const got = jsonType(a);
    if (NULLABLE.has(k) && (a === null || ex === null)) continue;
    if (want === 'float') expect(typeof a, `${where}.${k}`).toBe('number');
    else expect(got, `${where}.${k}`).toBe(want);
    // Timestamps keep the seed's form: an offset, never Z; seconds or milliseconds as the seed writes them.
    if (typeof ex === 'string' && /^\d{4}-\d\d-\d\dT/.test(ex)) {
      const ms = /\.\d{3}/.test(ex);
      expect(a, `${where}.${k}`).toMatch(ms ? /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/ : /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    }
  }
}

async function replicate(vm: string) {
  const ctx = await post('/vm-contexts', { vm_name: vm, vmware_vm_id: '420570c7-f61f-a930-77c5-1e876786cb3c', vm_path: `/DC/vm/${vm}`, vcenter_host: 'vc.local', datacenter: 'DC', cpu_count: 2, memory_mb: 8192, os_type: 'windows', power_state: 'poweredOn', vm_tools_version: '11.3.5' });
  expect(ctx.status).toBe(200);
  const disks = [
    { disk_id: 'disk-2000', capacity_bytes: 4 * GiB, label: 'Hard disk 1', unit_number: 0, vmdk_path: `[ds] ${vm}/${vm}.vmdk`, datastore: 'ds', provisioning_type: 'thin', network_config: '[]' },
    { disk_id: 'disk-2001', capacity_bytes: 2 * GiB, label: 'Hard disk 2', unit_number: 1 },
  ];
  const start = await post('/replication-jobs', { vm_name: vm, job_id: `${vm}-job-1`, replication_type: 'initial', nbd_export_name: 'migration-vol-1', disks });
  expect(start.status).toBe(200);
  return { disks };
}

describe('read API (seed 004)', () => {
  it('GET /api/v1/vm-contexts and /{vm_name} have the seed examples\' field names and JSON types, field by field', async () => {
    await replicate('pgtest1');
    // a finished job for the history, then the running one the seed shows
    expect((await post('/replication-jobs/progress', { job_id: 'pgtest1-job-1', bytes_transferred: 6 * GiB })).status).toBe(200);
    expect((await post('/replication-jobs/complete', { job_id: 'pgtest1-job-1' })).status).toBe(200);
    const start = await post('/replication-jobs', { vm_name: 'pgtest1', job_id: 'pgtest1-job-2', replication_type: 'incremental', disks: [{ disk_id: 'disk-2000', capacity_bytes: 4 * GiB }] });
    expect(start.status).toBe(200);
    expect((await post('/replication-jobs/progress', { job_id: 'pgtest1-job-2', bytes_transferred: GiB, phase: 'Disk transfer', disks: [{ disk_id: 'disk-2000', bytes_synced: GiB }] })).status).toBe(200);
    expect((await post('/replication-jobs/cbt', { job_id: 'pgtest1-job-2', disk_id: 'disk-2000', change_id: '52 1a/9', sync_type: 'incremental', blocks_changed: 10, bytes_transferred: 655360, sync_duration_seconds: 3, sync_success: true })).status).toBe(200);

    const list = await t.api('/api/v1/vm-contexts', { token: viewer });
    expect(list.status).toBe(200);
    const lbody = await list.json();
    const lseed = seed('004-vm-contexts.200');
    expect(Object.keys(lbody).sort()).toEqual(Object.keys(lseed).sort());
    expect(lbody.count).toBe(lbody.vm_contexts.length);
    sameShape(lbody.vm_contexts.find((c: any) => c.vm_name === 'pgtest1'), lseed.vm_contexts[0], literals('004-vm-contexts.200'), 'vm_contexts[]');

    const res = await t.api('/api/v1/vm-contexts/pgtest1', { token: viewer });
    expect(res.status).toBe(200);
    const body = await res.json();
    const dseed = seed('004-vm-context.200');
    const lits = literals('004-vm-context.200');
    expect(Object.keys(body).sort()).toEqual(Object.keys(dseed).sort());
    sameShape(body.context, dseed.context, lits, 'context');
    sameShape(body.current_job, dseed.current_job, lits, 'current_job');
    sameShape(body.job_history[0], dseed.job_history[0], lits, 'job_history[]');
    sameShape(body.disks[0], dseed.disks[0], lits, 'disks[]');
    sameShape(body.cbt_history[0], dseed.cbt_history[0], lits, 'cbt_history[]');
    // the values vmpulse keeps
    expect(body.context).toMatchObject({ current_status: 'replicating', current_job_id: 'pgtest1-job-2', total_jobs_run: 2, successful_jobs: 1, failed_jobs: 0, last_successful_job_id: 'pgtest1-job-1' });
    expect(body.current_job).toMatchObject({ id: 'pgtest1-job-2', status: 'replicating', replication_type: 'incremental', bytes_transferred: GiB, total_bytes: 4 * GiB, progress_percent: 25 });
    expect(body.job_history.map((j: any) => j.id)).toEqual(['pgtest1-job-1']);
    expect(body.job_history[0]).toMatchObject({ status: 'completed', progress_percent: 100, bytes_transferred: 6 * GiB });
    expect(body.disks.map((d: any) => [d.disk_id, d.bytes_synced, d.sync_progress_percent, d.sync_status])).toEqual([['disk-2000', GiB, 25, 'syncing']]);
    expect(body.cbt_history[0]).toMatchObject({ change_id: '52 1a/9', blocks_changed: 10, sync_success: true });
  });

  it('404, 401 bodies as the seed writes them', async () => {
    const nf = await t.api('/api/v1/vm-contexts/nonexistent-vm');
    expect(nf.status).toBe(404);
    const nfb = await nf.json();
    expect(nfb.error).toBe('VM context not found for: nonexistent-vm');
    expect(Object.keys(nfb).sort()).toEqual(['error', 'timestamp']);
    expect(Number.isNaN(Date.parse(nfb.timestamp))).toBe(false);
    for (const token of [null, 'vmp_wrong']) {
      const un = await t.api('/api/v1/vm-contexts', { token });
      expect(un.status).toBe(401);
      expect((await un.json()).error).toBe('Authentication required');
    }
  });

  it('viewers read, only operators report (403 in the seed body)', async () => {
    const r = await post('/vm-contexts', { vm_name: 'viewer-try' }, viewer);
    expect(r.status).toBe(403);
    expect(Object.keys(await r.json()).sort()).toEqual(['error', 'timestamp']);
    expect((await t.api('/api/v1/vm-contexts/viewer-try')).status).toBe(404);
  });
});

describe('replicator reports', () => {
  it('refuses bad reports with a clear 4xx, changes nothing, and keeps them in the job\'s event log', async () => {
    await replicate('refusals');
    const job = 'refusals-job-1';
    expect((await post('/replication-jobs/progress', { job_id: job, bytes_transferred: 2 * GiB })).status).toBe(200);
    const before = await (await t.api('/api/v1/vm-contexts/refusals')).json();
    const cases: [string, unknown, number, RegExp][] = [
      ['/replication-jobs/progress', { job_id: 'no-such-job', bytes_transferred: 1 }, 404, /not found/],
      ['/replication-jobs', { vm_name: 'no-such-vm', job_id: 'x1', replication_type: 'initial', disks: [{ disk_id: 'd', capacity_bytes: 1 }] }, 404, /VM context not found for: no-such-vm/],
      ['/replication-jobs/progress', { job_id: job, bytes_transferred: 7 * GiB }, 400, /above total_bytes/],
      ['/replication-jobs/progress', { job_id: job, bytes_transferred: GiB }, 409, /backwards/],
      ['/replication-jobs/progress', { job_id: job, bytes_transferred: 2 * GiB, disks: [{ disk_id: 'disk-2001', bytes_synced: 3 * GiB }] }, 400, /above capacity_bytes/],
      ['/replication-jobs/progress', { job_id: job, bytes_transferred: 2 * GiB, disks: [{ disk_id: 'disk-9', bytes_synced: 1 }] }, 404, /no disk/],
      ['/replication-jobs', { vm_name: 'refusals', job_id: 'refusals-job-2', replication_type: 'incremental', disks: [{ disk_id: 'd', capacity_bytes: 1 }] }, 409, /already has a running job/],
      ['/replication-jobs/progress', { job_id: job, bytes_transferred: -1 }, 400, /bytes_transferred/],
      ['/replication-jobs/progress', { job_id: job, bytes_transferred: 1, extra: 1 }, 400, /extra|Unrecognized|unrecognized/],
    ];
    for (const [path, body, status, msg] of cases) {
      const r = await post(path, body);
      const b = await r.json();
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(b.error).toMatch(msg);
    }
    const after = await (await t.api('/api/v1/vm-contexts/refusals')).json();
    expect(after.current_job).toEqual(before.current_job);
    expect(after.disks).toEqual(before.disks);
    expect(after.context).toEqual(before.context);
    // finished jobs take no more progress
    expect((await post('/replication-jobs/fail', { job_id: job, error_message: 'NBD connection reset' })).status).toBe(200);
    const late = await post('/replication-jobs/progress', { job_id: job, bytes_transferred: 3 * GiB });
    expect(late.status).toBe(409);
    expect((await late.json()).error).toMatch(/already failed/);
    expect((await post('/replication-jobs/complete', { job_id: job })).status).toBe(409);
    // the event log names each refusal
    const log = await t.gql(`{ migrationContext(vmName: "refusals") { jobHistory { id events(limit: 50) { kind accepted message } } } }`);
    const events = log.body.data.migrationContext.jobHistory[0].events as { kind: string; accepted: boolean; message: string }[];
    const refused = events.filter((e) => !e.accepted).map((e) => e.message);
    expect(refused.some((m) => /above total_bytes/.test(m))).toBe(true);
    expect(refused.some((m) => /backwards/.test(m))).toBe(true);
    expect(refused.some((m) => /already failed/.test(m))).toBe(true);
    expect(events.some((e) => e.accepted && e.kind === 'fail' && e.message === 'NBD connection reset')).toBe(true);
  });

  it('counters after success, failure and retry; repeated reports change nothing', async () => {
    await replicate('counters');
    // the same start again: same job, no second count
    const again = await post('/replication-jobs', { vm_name: 'counters', job_id: 'counters-job-1', replication_type: 'initial', disks: [{ disk_id: 'disk-2000', capacity_bytes: 4 * GiB }] });
    expect(again.status).toBe(200);
    expect((await post('/replication-jobs/fail', { job_id: 'counters-job-1', error_message: 'snapshot failed' })).status).toBe(200);
    expect((await post('/replication-jobs/fail', { job_id: 'counters-job-1', error_message: 'snapshot failed' })).status).toBe(200);
    let c = (await (await t.api('/api/v1/vm-contexts/counters')).json()).context;
    expect(c).toMatchObject({ current_status: 'failed', current_job_id: null, total_jobs_run: 1, successful_jobs: 0, failed_jobs: 1 });
    // retry
    expect((await post('/replication-jobs', { vm_name: 'counters', job_id: 'counters-job-2', replication_type: 'initial', disks: [{ disk_id: 'disk-2000', capacity_bytes: GiB }] })).status).toBe(200);
    expect((await post('/replication-jobs/progress', { job_id: 'counters-job-2', bytes_transferred: GiB })).status).toBe(200);
    expect((await post('/replication-jobs/complete', { job_id: 'counters-job-2', change_id: 'c-1' })).status).toBe(200);
    expect((await post('/replication-jobs/complete', { job_id: 'counters-job-2' })).status).toBe(200);
    c = (await (await t.api('/api/v1/vm-contexts/counters')).json()).context;
    expect(c).toMatchObject({ current_status: 'ready_for_failover', current_job_id: null, total_jobs_run: 2, successful_jobs: 1, failed_jobs: 1, last_successful_job_id: 'counters-job-2' });
    expect(c.first_job_at <= c.last_job_at).toBe(true);
    // callers cannot set counters
    const forged = await post('/vm-contexts', { vm_name: 'counters', successful_jobs: 99 });
    expect(forged.status).toBe(400);
  });

  it('the GraphQL mutations take the same reports under the same rules', async () => {
    const q = `mutation($c: MigrationContextInput!, $j: StartReplicationJobInput!) { upsertMigrationContext(input: $c) { contextId } startReplicationJob(input: $j) { id status steps { name state } } }`;
    const r = await t.gql(q, { c: { vmName: 'gql-vm' }, j: { vmName: 'gql-vm', jobId: 'gql-job', replicationType: 'initial', disks: [{ diskId: 'vda', capacityBytes: '1000' }] } }, operator);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.startReplicationJob.steps).toEqual([{ name: 'Initialize', state: 'running' }, { name: 'Disk transfer', state: 'pending' }, { name: 'Finalize', state: 'pending' }]);
    const over = await t.gql(`mutation { reportReplicationProgress(input: { jobId: "gql-job", bytesTransferred: "2000" }) { id } }`, {}, operator);
    expect(over.body.errors[0].message).toMatch(/above total_bytes/);
    const ok = await t.gql(`mutation { reportReplicationProgress(input: { jobId: "gql-job", bytesTransferred: "500" }) { progressPercent steps { name state } } }`, {}, operator);
    expect(ok.body.data.reportReplicationProgress.progressPercent).toBe(50);
    expect(ok.body.data.reportReplicationProgress.steps.map((s: any) => s.state)).toEqual(['completed', 'running', 'pending']);
    const denied = await t.gql(`mutation { failReplicationJob(jobId: "gql-job", errorMessage: "x") { id } }`, {}, viewer);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('deleting a context deletes its jobs, steps, disks, CBT records and events (cascade)', async () => {
    await replicate('cascade');
    await post('/replication-jobs/cbt', { job_id: 'cascade-job-1', disk_id: 'disk-2000', change_id: 'a', sync_type: 'initial', blocks_changed: 1, bytes_transferred: 1, sync_duration_seconds: 1, sync_success: true });
    const pg = await import('pg');
    const url = JSON.parse(readFileSync(`${t.dataDir}/postgres.json`, 'utf8')).url as string;
    const client = new pg.default.Client({ connectionString: url });
    await client.connect();
    try {
      const count = async () =>
        (
          await client.query(`SELECT (SELECT count(*) FROM replication_jobs WHERE id = 'cascade-job-1')::int AS jobs,
            (SELECT count(*) FROM replication_job_steps WHERE job_id = 'cascade-job-1')::int AS steps,
            (SELECT count(*) FROM vm_disks WHERE job_id = 'cascade-job-1')::int AS disks,
            (SELECT count(*) FROM cbt_history WHERE job_id = 'cascade-job-1')::int AS cbt,
            (SELECT count(*) FROM replication_job_events WHERE job_id = 'cascade-job-1')::int AS events`)
        ).rows[0];
      expect(await count()).toEqual({ jobs: 1, steps: 3, disks: 2, cbt: 1, events: 2 });
      await client.query(`DELETE FROM vm_replication_contexts WHERE vm_name = 'cascade'`);
      expect(await count()).toEqual({ jobs: 0, steps: 0, disks: 0, cbt: 0, events: 0 });
    } finally {
      await client.end();
    }
  });
});
