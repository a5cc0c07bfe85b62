// Tenancy on migration contexts: a token scoped to an owner does not see the context of a VM
// outside its scope (list, detail, GraphQL, subscription), sees its own VM's, and sees contexts of
// VMs vmpulse does not monitor (they have no owner here).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_OWNERS, demoDomains, writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, type TestApp } from './helpers/app.js';

let t: TestApp;
let dir: string | undefined;
let scoped: string;
const owner = DEMO_OWNERS[0]!;
const fleet = demoDomains();
const own = fleet.find((d) => d.owner?.uname === owner.uname)!;
const foreign = fleet.find((d) => d.owner && d.owner.uname !== owner.uname)!;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
  t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml')) }, dir);
  const r = await t.gql(`mutation($s: TokenScopeInput) { createToken(name: "mig-scoped", role: viewer, scope: $s) { token } }`, { s: { user: owner.uname } });
  scoped = r.body.data.createToken.token;
  for (const vm_name of [own.name, foreign.name, 'vmware-only']) {
    const res = await t.api('/api/v1/vm-contexts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vm_name }) });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('migration contexts under tenancy', () => {
  it('a scoped token sees its own VM\'s context and unmonitored ones, never a foreign VM\'s', async () => {
    const list = await (await t.api('/api/v1/vm-contexts', { token: scoped })).json();
    expect(list.vm_contexts.map((c: any) => c.vm_name).sort()).toEqual([own.name, 'vmware-only'].sort());
    expect(list.count).toBe(2);
    const hidden = await t.api(`/api/v1/vm-contexts/${foreign.name}`, { token: scoped });
    expect(hidden.status).toBe(404);
    expect((await hidden.json()).error).toBe(`VM context not found for: ${foreign.name}`);
    expect((await t.api(`/api/v1/vm-contexts/${own.name}`, { token: scoped })).status).toBe(200);
    const g = await t.gql(`query($a: String!, $b: String!) { a: migrationContext(vmName: $a) { vmName vm { name } } b: migrationContext(vmName: $b) { vmName } migrationContexts { vmName } }`, { a: own.name, b: foreign.name }, scoped);
    expect(g.body.data.a).toEqual({ vmName: own.name, vm: { name: own.name } });
    expect(g.body.data.b).toBeNull();
    expect(JSON.stringify(g.body.data.migrationContexts)).not.toContain(foreign.name);
    const sub = await t.gql(`subscription($v: String) { replicationJobUpdated(vmName: $v) { event } }`, { v: foreign.name }, scoped);
    expect(JSON.stringify(sub.body)).toMatch(/VM context not found/);
    // unscoped: all three
    expect((await (await t.api('/api/v1/vm-contexts')).json()).count).toBe(3);
  });

  it('a scoped operator reports only on its own VM\'s context: a foreign one is refused as unknown and does not change', async () => {
    const r = await t.gql(`mutation($s: TokenScopeInput) { createToken(name: "mig-scoped-op", role: operator, scope: $s) { token } }`, { s: { user: owner.uname } });
    const op: string = r.body.data.createToken.token;
    const post = (p: string, body: unknown, token?: string) =>
      t.api(`/api/v1${p}`, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const GiB = 2 ** 30;
    const disks = [{ disk_id: 'disk-1', capacity_bytes: 4 * GiB }];
    // the unscoped (admin) replicator starts a job on the foreign VM
    expect((await post('/replication-jobs', { vm_name: foreign.name, job_id: 'foreign-job', replication_type: 'initial', disks })).status).toBe(200);
    const before = await (await t.api(`/api/v1/vm-contexts/${foreign.name}`)).json();

    const ctx = await post('/vm-contexts', { vm_name: foreign.name, cpu_count: 64 }, op);
    expect(ctx.status).toBe(404);
    expect((await ctx.json()).error).toBe(`VM context not found for: ${foreign.name}`);
    const start = await post('/replication-jobs', { vm_name: foreign.name, job_id: 'op-job', replication_type: 'initial', disks }, op);
    expect(start.status).toBe(404);
    for (const [p, body] of [
      ['/replication-jobs/progress', { job_id: 'foreign-job', bytes_transferred: GiB }],
      ['/replication-jobs/complete', { job_id: 'foreign-job' }],
      ['/replication-jobs/fail', { job_id: 'foreign-job', error_message: 'x' }],
    ] as const) {
      const res = await post(p, body, op);
      expect(res.status, p).toBe(404);
      expect((await res.json()).error).toBe('replication job "foreign-job" not found');
    }
    const after = await (await t.api(`/api/v1/vm-contexts/${foreign.name}`)).json();
    expect(after.context).toEqual(before.context);
    expect(after.current_job).toEqual(before.current_job);
    expect(after.current_job.bytes_transferred).toBe(0);

    // its own VM: accepted
    expect((await post('/replication-jobs', { vm_name: own.name, job_id: 'own-job', replication_type: 'initial', disks }, op)).status).toBe(200);
    expect((await post('/replication-jobs/progress', { job_id: 'own-job', bytes_transferred: GiB }, op)).status).toBe(200);
  });
});
