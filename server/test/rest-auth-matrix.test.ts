// Every REST route × every way of (not) authenticating: no token, malformed headers, a wrong token,
// a revoked one, and each role. The routes come from the server's own registry as /api/openapi.json
// lists it (each operation names its least role), so a route is covered the day it is added. Each
// answer is checked for its status and validated against the schema the document gives for it:
// the family's error body for 401/403, the route's answer for 200.
import { afterAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { roles, type Role } from '../src/lib/auth.js';
import { startTestApp } from './helpers/app.js';
import { createValidator, fetchOpenapi, operations, responseSchema, type Operation } from './helpers/openapi.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Top-level await: the routes must be known when the tests are collected.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
const t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml')) }, dataDir);
afterAll(async () => {
  t.app.services.collector.start(); // the matrix stops it (POST /api/telemetry/stop)
  await t.stop();
});
const doc = await fetchOpenapi(t.url);
const validate = createValidator(doc);

const token = async (name: string, role: Role) => (await t.gql(`mutation($n: String!, $r: Role!) { createToken(name: $n, role: $r) { token apiToken { id } } }`, { n: name, r: role })).body.data.createToken;
const tokens = Object.fromEntries(await Promise.all(roles.map(async (r) => [r, (await token(`matrix-${r}`, r)).token]))) as Record<Role, string>;
const revoked = await token('matrix-revoked', 'admin');
await t.gql(`mutation($id: ID!) { revokeToken(id: $id) { id } }`, { id: revoked.apiToken.id });

const runningVm = t.app.services.vms.list({ state: 'running' })[0]!;
/** A completed memory dump (the test driver's placeholder) for the /api/memory-dumps/{id} routes. */
const dumpId = await (async () => {
  const r = (await (await t.api('/api/memory-dumps/trigger', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vm_ids: [String(runningVm.id)] }) })).json()) as { dump_ids: number[] };
  const id = r.dump_ids[0]!;
  for (let i = 0; i < 200; i++) {
    if ((await t.app.services.dumps.get({ role: 'admin', tokenId: null, name: 'matrix' }, id)).status === 'completed') return id;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`dump ${id} did not complete`);
})();
// Migration reports act on a context and jobs: A takes progress, CBT and completion, B the failure, C is started by the matrix.
const report = (p: string, body: object) => t.api(`/api/v1${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
for (const c of ['a', 'b', 'c']) {
  await report('/vm-contexts', { vm_name: `matrix-${c}` });
  if (c !== 'c') await report('/replication-jobs', { vm_name: `matrix-${c}`, job_id: `matrix-job-${c}`, replication_type: 'initial', disks: [{ disk_id: 'vda', capacity_bytes: 1000 }] });
}

/** A value for each path parameter a route may have; a new one must be added here. */
const PATH_VALUES: Record<string, string> = { vm_id: String(runningVm.id), id: String(dumpId), vm_name: 'matrix-a' };
/** A valid body for each route that takes one; a new one must be added here. Each is sent once per allowed role: reports are idempotent. */
const BODIES: Record<string, unknown> = {
  // An unknown VM: the answer (404) is the same for every authorised caller, whatever ran before.
  'POST /api/memory-dumps/trigger': { vm_ids: ['matrix-no-such-vm'] },
  'POST /api/v1/vm-contexts': { vm_name: 'matrix-c', os_type: 'linux' },
  'POST /api/v1/replication-jobs': { vm_name: 'matrix-c', job_id: 'matrix-job-c', replication_type: 'initial', disks: [{ disk_id: 'vda', capacity_bytes: 1000 }] },
  'POST /api/v1/replication-jobs/progress': { job_id: 'matrix-job-a', bytes_transferred: 1 },
  'POST /api/v1/replication-jobs/cbt': { job_id: 'matrix-job-a', disk_id: 'vda', change_id: 'c1', sync_type: 'initial', blocks_changed: 1, bytes_transferred: 1, sync_duration_seconds: 1, sync_success: true },
  'POST /api/v1/replication-jobs/complete': { job_id: 'matrix-job-a' },
  'POST /api/v1/replication-jobs/fail': { job_id: 'matrix-job-b', error_message: 'matrix' },
};
/** Routes whose authorised answer is not 200 here, by design of the example above (documented statuses). */
const AUTHORISED_STATUS: Record<string, number> = {
  'POST /api/memory-dumps/trigger': 404,
};

function target(method: string, p: string, op: Operation) {
  const url = p.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (!(name in PATH_VALUES)) throw new Error(`${method} ${p}: add an example value for the path parameter "${name}" to PATH_VALUES`);
    return encodeURIComponent(PATH_VALUES[name]!);
  });
  const query = new URLSearchParams();
  for (const q of op.parameters ?? []) {
    if (q.in !== 'query' || !q.required) continue;
    const v = q.schema.enum?.[0] ?? q.schema.default ?? q.schema.minimum;
    if (v === undefined) throw new Error(`${method} ${p}: no example for the required query parameter "${q.name}"`);
    query.set(q.name, String(v));
  }
  const key = `${method} ${p}`;
  if (op.requestBody && !(key in BODIES)) throw new Error(`${key}: add a valid example body to BODIES`);
  return { url: query.size ? `${url}?${query}` : url, body: op.requestBody ? JSON.stringify(BODIES[key]) : undefined };
}

const CALLERS: { who: string; authorization: string | null; role?: Role }[] = [
  { who: 'no token', authorization: null },
  { who: 'Basic credentials', authorization: 'Basic dXNlcjpwYXNz' },
  { who: '"Bearer" without a token', authorization: 'Bearer' },
  { who: 'two tokens', authorization: `Bearer ${tokens.admin} ${tokens.admin}` },
  { who: 'a wrong token', authorization: 'Bearer vmp_wrong0000000000000000000000000000' },
  { who: 'a revoked token', authorization: `Bearer ${revoked.token}` },
  ...roles.map((role) => ({ who: `a ${role} token`, authorization: `Bearer ${tokens[role]}`, role })),
];

const ops = operations(doc);

describe('the matrix covers the registry', () => {
  it('lists every REST route the server serves (9 today)', () => {
    expect(ops.length).toBeGreaterThanOrEqual(9);
  });
});

for (const { method, path: p, op } of ops) {
  describe(`${method} ${p} (${op['x-vmpulse-role']})`, () => {
    for (const caller of CALLERS) {
      const need = op['x-vmpulse-role']!;
      const expected = !caller.role ? 401 : roles.indexOf(caller.role) >= roles.indexOf(need) ? (AUTHORISED_STATUS[`${method} ${p}`] ?? 200) : 403;
      it(`${caller.who} → ${expected}`, async () => {
        const { url, body } = target(method, p, op);
        const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
        if (caller.authorization !== null) headers.authorization = caller.authorization;
        const res = await fetch(t.url + url, { method, headers, body });
        expect(res.status).toBe(expected);
        if (expected === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
        // The media type the document gives for this answer: JSON, or a file (a dump's download).
        const documented = Object.keys(op.responses[String(expected)]?.content ?? {})[0];
        expect(documented, `documented ${expected}`).toBeDefined();
        expect(res.headers.get('content-type')?.split(';')[0]).toBe(documented);
        if (documented === 'application/json') expect(validate(responseSchema(op, expected), await res.json())).toBe('');
        else expect((await res.arrayBuffer()).byteLength).toBe(Number(res.headers.get('content-length')));
      });
    }
  });
}
