// Every REST route × every way of (not) authenticating: no token, malformed headers, a wrong token,
// a revoked one, and each role. The routes come from the server's own registry as /api/openapi.json
// lists it (each operation names its least role), so a route is covered the day it is added. Each
// answer is checked for its status and validated against the schema the document gives for it:
// the family's error body for 401/403, the route's answer for 200.
// Tenancy adds a dimension: every route × tokens scoped to each owner of the demo fleet (OpenNebula
// metadata) × an own and a foreign VM. A foreign VM answers 404 in the family's body, exactly as an
// unknown one; no answer to a scoped token names a VM outside its scope.
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_OWNERS, demoDomains, writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { roles, type Role } from '../src/lib/auth.js';
import { startTestApp, testDataDir } from './helpers/app.js';
import { createValidator, fetchOpenapi, operations, responseSchema, responseType, type Operation } from './helpers/openapi.js';
import path from 'node:path';

// Top-level await: the routes must be known when the tests are collected.
const dataDir = testDataDir();
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
/** A completed memory dump (the test driver's placeholder) of a VM, for the /api/memory-dumps/{id} routes. */
async function completedDump(vm: string): Promise<number> {
  const r = (await (await t.api('/api/memory-dumps/trigger', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vm_ids: [vm] }) })).json()) as { dump_ids: number[] };
  const id = r.dump_ids[0]!;
  for (let i = 0; i < 200; i++) {
    if ((await t.app.services.dumps.get({ role: 'admin', tokenId: null, name: 'matrix', scope: null }, id)).status === 'completed') return id;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`dump ${id} did not complete`);
}
const dumpId = await completedDump(String(runningVm.id));
// Migration reports act on a context and jobs: A takes CBT and completion, B the failure, C is started by the matrix, D takes progress (it stays running).
const report = (p: string, body: object) => t.api(`/api/v1${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
for (const c of ['a', 'b', 'c', 'd']) {
  await report('/vm-contexts', { vm_name: `matrix-${c}` });
  if (c !== 'c') await report('/replication-jobs', { vm_name: `matrix-${c}`, job_id: `matrix-job-${c}`, replication_type: 'initial', disks: [{ disk_id: 'vda', capacity_bytes: 1000 }] });
}

/** A value for each path parameter a route may have; a new one must be added here. */
const PATH_VALUES: Record<string, string> = { vm_id: String(runningVm.id), id: String(dumpId), vm_name: 'matrix-a' };
/** Path parameters that name a VM: scoped tokens get an own and a foreign one. */
const VM_PARAMS = new Set(['vm_id']);

// Scoped tokens: each demo owner by user (viewer) and by group (operator).
const fleet = demoDomains();
const SCOPED = await Promise.all(
  DEMO_OWNERS.flatMap((o) => [
    { who: `a viewer scoped to user ${o.uname}`, role: 'viewer' as Role, scope: { user: o.uname }, owns: (d: (typeof fleet)[number]) => d.owner?.uname === o.uname },
    { who: `an operator scoped to group ${o.gname}`, role: 'operator' as Role, scope: { group: o.gname }, owns: (d: (typeof fleet)[number]) => d.owner?.gname === o.gname },
  ]).map(async (c) => {
    const r = await t.gql(`mutation($n: String!, $r: Role!, $s: TokenScopeInput) { createToken(name: $n, role: $r, scope: $s) { token } }`, { n: c.who, r: c.role, s: c.scope });
    const own = fleet.find((d) => d.running && c.owns(d))!;
    const foreign = fleet.filter((d) => d.running && !c.owns(d));
    return { ...c, token: r.body.data.createToken.token as string, own, foreign, foreignNames: fleet.filter((d) => !c.owns(d)).map((d) => d.name) };
  }),
);
const vmIdOf = (name: string) => String(t.app.services.vms.list().find((v) => v.name === name)!.id);
/** Scoped tokens see only the dumps of their VMs: a completed dump of each one's own VM. */
const dumpOfVm = new Map<string, string>([[runningVm.name, String(dumpId)]]);
for (const c of SCOPED) if (!dumpOfVm.has(c.own.name)) dumpOfVm.set(c.own.name, String(await completedDump(c.own.name)));
/** A valid body for each route that takes one; a new one must be added here. Each is sent once per allowed role: reports are idempotent. */
const BODIES: Record<string, unknown> = {
  // An unknown VM: the answer (404) is the same for every authorised caller, whatever ran before.
  'POST /api/memory-dumps/trigger': { vm_ids: ['matrix-no-such-vm'] },
  'POST /api/v1/vm-contexts': { vm_name: 'matrix-c', os_type: 'linux' },
  'POST /api/v1/replication-jobs': { vm_name: 'matrix-c', job_id: 'matrix-job-c', replication_type: 'initial', disks: [{ disk_id: 'vda', capacity_bytes: 1000 }] },
  'POST /api/v1/replication-jobs/progress': { job_id: 'matrix-job-d', bytes_transferred: 1 },
  'POST /api/v1/replication-jobs/cbt': { job_id: 'matrix-job-a', disk_id: 'vda', change_id: 'c1', sync_type: 'initial', blocks_changed: 1, bytes_transferred: 1, sync_duration_seconds: 1, sync_success: true },
  'POST /api/v1/replication-jobs/complete': { job_id: 'matrix-job-a' },
  'POST /api/v1/replication-jobs/fail': { job_id: 'matrix-job-b', error_message: 'matrix' },
};
/** Routes whose authorised answer is not 200 here, by design of the example above (documented statuses). */
const AUTHORISED_STATUS: Record<string, number> = {
  'POST /api/memory-dumps/trigger': 404,
};

function target(method: string, p: string, op: Operation, vm?: string, dump?: string) {
  const url = p.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (!(name in PATH_VALUES)) throw new Error(`${method} ${p}: add an example value for the path parameter "${name}" to PATH_VALUES`);
    if (name === 'id' && dump !== undefined) return dump;
    return encodeURIComponent(vm !== undefined && VM_PARAMS.has(name) ? vm : PATH_VALUES[name]!);
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
  it('lists every REST route the server serves (10 today)', () => {
    expect(ops.length).toBeGreaterThanOrEqual(10);
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
        const schema = responseSchema(op, expected);
        expect(schema, `documented ${expected}`).toBeDefined();
        // JSON answers are validated as JSON; a text endpoint's (GET /metrics) as the string it is;
        // a file (a dump's download) by its length.
        const type = responseType(op, expected)!;
        expect(res.headers.get('content-type')).toContain(type);
        if (type === 'application/json') expect(validate(schema, await res.json())).toBe('');
        else if (type.startsWith('text/')) expect(validate(schema, await res.text())).toBe('');
        else expect((await res.arrayBuffer()).byteLength).toBe(Number(res.headers.get('content-length')));
      });
    }
  });
}

for (const { method, path: p, op } of ops) {
  const need = op['x-vmpulse-role']!;
  const namesVm = [...p.matchAll(/\{(\w+)\}/g)].some((m) => VM_PARAMS.has(m[1]!));
  describe(`${method} ${p} (${need}) × scoped tokens`, () => {
    for (const caller of SCOPED) {
      const allowed = roles.indexOf(caller.role) >= roles.indexOf(need);
      const call = async (vm?: string) => {
        const { url, body } = target(method, p, op, vm, dumpOfVm.get(caller.own.name));
        const headers: Record<string, string> = { authorization: `Bearer ${caller.token}`, ...(body ? { 'content-type': 'application/json' } : {}) };
        const res = await fetch(t.url + url, { method, headers, body });
        // A dump's download is the file itself; a text endpoint (GET /metrics) answers text, where
        // foreign VMs would show as label values ("name").
        const type = res.headers.get('content-type') ?? '';
        if (type.startsWith('application/gzip')) return { status: res.status, body: (await res.arrayBuffer()).byteLength };
        return { status: res.status, body: type.includes('json') ? await res.json() : await res.text() };
      };
      if (!allowed) {
        it(`${caller.who} → 403`, async () => {
          const r = await call(namesVm ? vmIdOf(caller.own.name) : undefined);
          expect(r.status).toBe(403);
          expect(validate(responseSchema(op, 403), r.body)).toBe('');
        });
        continue;
      }
      if (namesVm) {
        it(`${caller.who}, own VM → 200`, async () => {
          const r = await call(vmIdOf(caller.own.name));
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          expect(validate(responseSchema(op, 200), r.body)).toBe('');
        });
        it(`${caller.who}, foreign VM (by id, uuid, name) → 404 as an unknown one`, async () => {
          for (const d of caller.foreign) {
            for (const ref of [vmIdOf(d.name), d.uuid, d.name]) {
              const r = await call(ref);
              expect(r.status, `${ref}`).toBe(404);
              expect(validate(responseSchema(op, 404), r.body)).toBe('');
              expect(r.body).toEqual({ detail: /^\d+$/.test(ref) ? `VM ${ref} not found` : `VM ${JSON.stringify(ref)} not found` });
            }
          }
        });
      } else {
        const status = AUTHORISED_STATUS[`${method} ${p}`] ?? 200;
        it(`${caller.who} → ${status}, naming no foreign VM`, async () => {
          const r = await call();
          expect(r.status, JSON.stringify(r.body)).toBe(status);
          if (typeof r.body === 'number') expect(r.body).toBeGreaterThan(0); // the download: bytes of the file
          else expect(validate(responseSchema(op, status), r.body)).toBe('');
          const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
          for (const name of caller.foreignNames) expect(text, name).not.toContain(`"${name}"`);
        });
      }
    }
  });
}
