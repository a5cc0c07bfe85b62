// The auth matrix, generated from the built schema: every Query, Mutation and Subscription root
// field, over HTTP, graphql-ws and SSE, × no token, a malformed header, a wrong token, a revoked
// token, viewer, operator and admin. A field added tomorrow is in the matrix the day it is added:
// its operation is built from its type (required arguments get a value of their type), and the role
// it needs is read from its declared auth scopes.
// Tenancy adds a dimension: every root field × tokens scoped to each owner of the demo fleet ×
// an own and a foreign VM (fields taking a VM: `vmId`, or `vm(id)`). A foreign VM is null where the
// field is nullable and NOT_FOUND ("VM … not found", as for an unknown one) elsewhere; no answer to
// a scoped token names a VM outside its scope (selections go two levels deep so lists show names).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLNamedType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/features/index.js';
import { buildSchema } from '../src/graphql/schema.js';
import { roles, type Role } from '../src/lib/auth.js';
import { DEMO_OWNERS, demoDomains, writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { rawSocket, readSse } from './helpers/hostile.js';

const schema = buildSchema();

type Caller = 'no token' | 'malformed header' | 'wrong token' | 'revoked token' | Role;
const CALLERS: Caller[] = ['no token', 'malformed header', 'wrong token', 'revoked token', ...roles];

let t: TestApp;
const headers: Partial<Record<Caller, string | null>> = { 'no token': null, 'malformed header': 'Basic dmlld2VyOnNlY3JldA==', 'wrong token': 'Bearer vmp_not-a-token' };
/** Argument values where a value of the type alone would not do (an existing thing, a harmless target). */
const samples: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
  t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml')), POLL_INTERVAL: '0.5' }, dataDir);
  const create = async (role: Role, name: string) => (await t.gql(`mutation($n: String!, $r: Role!) { createToken(name: $n, role: $r) { token apiToken { id } } }`, { n: name, r: role })).body.data.createToken;
  for (const role of roles) headers[role] = `Bearer ${(await create(role, `matrix ${role}`)).token}`;
  const revoked = await create('admin', 'matrix revoked');
  await t.gql(`mutation($id: ID!) { revokeToken(id: $id) { id } }`, { id: revoked.apiToken.id });
  headers['revoked token'] = `Bearer ${revoked.token}`;
  const target = await create('viewer', 'matrix revoke target');
  const vm = t.app.services.vms.list({ state: 'running' })[0]!;
  samples['Mutation.revokeToken'] = { id: target.apiToken.id };
  samples['Query.vm'] = { id: String(vm.id) };
  samples['Subscription.vmMetrics'] = { vmId: String(vm.id) };
  samples['Subscription.vmStateChanged'] = { vmId: String(vm.id) };
  // Migration reports need a context and jobs to act on: A takes CBT and completion, B the failure, D progress (it stays running).
  const report = (path: string, body: object) => t.api(`/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const disks = [{ disk_id: 'vda', capacity_bytes: 1000 }];
  for (const c of ['a', 'b', 'c', 'd']) {
    await report('/vm-contexts', { vm_name: `matrix-${c}` });
    if (c !== 'c') await report('/replication-jobs', { vm_name: `matrix-${c}`, job_id: `matrix-job-${c}`, replication_type: 'initial', disks });
  }
  samples['Mutation.upsertMigrationContext'] = { input: { vmName: 'matrix-c' } };
  samples['Mutation.startReplicationJob'] = { input: { vmName: 'matrix-c', jobId: 'matrix-job-c', replicationType: 'initial', disks: [{ diskId: 'vda', capacityBytes: '1000' }] } };
  samples['Mutation.reportReplicationProgress'] = { input: { jobId: 'matrix-job-d', bytesTransferred: '1' } };
  samples['Query.migrationContext'] = { vmName: 'matrix-a' };
  samples['Mutation.recordCbtSync'] = { input: { jobId: 'matrix-job-a', diskId: 'vda', changeId: 'c1', syncType: 'initial', blocksChanged: 1, bytesTransferred: '1', syncDurationSeconds: 1, syncSuccess: true } };
  samples['Mutation.completeReplicationJob'] = { jobId: 'matrix-job-a' };
  samples['Mutation.failReplicationJob'] = { jobId: 'matrix-job-b', errorMessage: 'matrix' };
  samples['Subscription.replicationJobUpdated'] = { vmName: 'matrix-a' };
  const ownerless = fleet.find((d) => !d.owner)!;
  samples['Mutation.setVmOwner'] = { vmId: ownerless.name };
  for (const c of scopedCallers) {
    const r = await t.gql(`mutation($n: String!, $r: Role!, $s: TokenScopeInput) { createToken(name: $n, role: $r, scope: $s) { token } }`, { n: c.who, r: c.role, s: c.scope });
    c.header = `Bearer ${r.body.data.createToken.token}`;
  }
});

// Scoped tokens: each demo owner by user (viewer) and by group (operator).
const fleet = demoDomains();
type Demo = (typeof fleet)[number];
const scopedCallers = DEMO_OWNERS.flatMap((o) => [
  { who: `viewer scoped to user ${o.uname}`, role: 'viewer' as Role, scope: { user: o.uname }, owns: (d: Demo) => d.owner?.uname === o.uname, header: '' },
  { who: `operator scoped to group ${o.gname}`, role: 'operator' as Role, scope: { group: o.gname }, owns: (d: Demo) => d.owner?.gname === o.gname, header: '' },
]);
const vmIdOf = (name: string) => String(t.app.services.vms.list().find((v) => v.name === name)!.id);

/** The argument of a field that names a VM, if it takes one. */
const vmArgOf = (field: GraphQLField<unknown, unknown>) => field.args.find((a) => a.name === 'vmId' || (field.name === 'vm' && a.name === 'id'))?.name;

/** Every field without required arguments, two levels deep: enough to see every VM a list names. */
function richSelection(type: GraphQLNamedType, depth: number): string {
  if (!isObjectType(type)) return '';
  const parts = ['__typename'];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type))) continue;
    const named = getNamedType(f.type);
    if (!isObjectType(named)) parts.push(f.name);
    else if (depth > 1) parts.push(`${f.name} ${richSelection(named, depth - 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}
afterAll(async () => {
  await t?.api('/api/telemetry/start', { method: 'POST' });
  await t?.stop();
});

/** The least role the field's declared scopes admit (field scopes, else its root type's). */
function neededRole(root: GraphQLObjectType, field: GraphQLField<unknown, unknown>): Role {
  const scopes = ((field.extensions as any).pothosOptions?.authScopes ?? (root.extensions as any).pothosOptions?.authScopes) as Partial<Record<Role, boolean>> | undefined;
  expect(scopes, `${root.name}.${field.name} declares no auth scope`).toBeTruthy();
  return roles.find((r) => scopes![r])!;
}

/** A value of an input type, from the type alone. */
function sampleOf(type: GraphQLInputType): unknown {
  const t2 = getNullableType(type);
  if (isListType(t2)) return [sampleOf(t2.ofType)];
  if (isEnumType(t2)) return t2.getValues()[0]!.value;
  if (isInputObjectType(t2)) {
    return Object.fromEntries(Object.values(t2.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sampleOf(f.type)]));
  }
  if (isScalarType(t2)) {
    const byScalar: Record<string, unknown> = { ID: '1', String: 'matrix', Int: 1, Float: 1, Boolean: true, DateTime: '2026-01-01T00:00:00Z', BigInt: '1', JSON: {} };
    return byScalar[t2.name] ?? 'x';
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** The operation for a root field: its arguments as variables, `{ __typename }` under an object. */
function operationFor(kind: 'query' | 'mutation' | 'subscription', root: GraphQLObjectType, field: GraphQLField<unknown, unknown>) {
  const given = samples[`${root.name}.${field.name}`] ?? {};
  const args = field.args.filter((a) => isNonNullType(a.type) || a.name in given);
  const variables = Object.fromEntries(args.map((a) => [a.name, a.name in given ? given[a.name] : sampleOf(a.type)]));
  const defs = args.length ? `(${args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
  const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const named = getNamedType(field.type);
  const selection = isObjectType(named) ? ' { __typename }' : '';
  return { query: `${kind} Matrix${defs} { ${field.name}${call}${selection} }`, variables };
}

const authHeader = (caller: Caller): Record<string, string> => (headers[caller] ? { authorization: headers[caller]! } : {});
const denied = (caller: Caller, need: Role) => !(roles as readonly string[]).includes(caller) || roles.indexOf(caller as Role) < roles.indexOf(need);
const unauthenticated = (caller: Caller) => !(roles as readonly string[]).includes(caller);

async function overHttp(op: { query: string; variables: object }, caller: Caller) {
  const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeader(caller) }, body: JSON.stringify(op) });
  return { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), body: await res.json() };
}

async function overSse(op: { query: string; variables: object }, caller: Caller) {
  const ctrl = new AbortController();
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    signal: ctrl.signal,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeader(caller) },
    body: JSON.stringify(op),
  });
  if (!res.headers.get('content-type')?.includes('text/event-stream')) return { status: res.status, body: await res.json() };
  const { text } = await readSse(res, (x) => /event: next\ndata: .*\n\n/.test(x));
  ctrl.abort();
  const data = /event: next\ndata: (.*)\n/.exec(text)?.[1];
  return { status: res.status, body: data ? JSON.parse(data) : {} };
}

async function overWs(op: { query: string; variables: object }, caller: Caller) {
  const s = rawSocket(t.url);
  await s.opened;
  s.send({ type: 'connection_init', payload: authHeader(caller) });
  const first = await Promise.race([s.next((m) => m.type === 'connection_ack'), s.closed.then((c) => ({ type: 'closed', ...c }))]);
  if (first.type === 'closed') return { closed: first.code as number };
  s.send({ id: 'op', type: 'subscribe', payload: op });
  const msg = await s.next((m) => m.id === 'op' && (m.type === 'next' || m.type === 'error'));
  const open = s.ws.readyState === s.ws.OPEN;
  s.ws.close();
  await s.closed;
  return { message: msg, open };
}

const kinds = [
  ['query', schema.getQueryType()],
  ['subscription', schema.getSubscriptionType()],
  ['mutation', schema.getMutationType()], // last: stopCollector and revokeToken act
] as const;

for (const [kind, root] of kinds) {
  if (!root) continue;
  describe(`${root.name} root fields`, () => {
    for (const field of Object.values(root.getFields())) {
      const need = neededRole(root, field);
      // Built when the test runs: the samples come from the running app.
      const op = () => operationFor(kind, root, field);

      if (kind !== 'subscription') {
        it(`${field.name} over HTTP (needs ${need})`, async () => {
          for (const caller of CALLERS) {
            const r = await overHttp(op(), caller);
            const where = `${field.name} over HTTP as ${caller}`;
            if (unauthenticated(caller)) {
              expect(r.status, where).toBe(401);
              expect(r.wwwAuthenticate, where).toMatch(/^Bearer/);
              expect(r.body.errors[0].extensions.code, where).toBe('UNAUTHENTICATED');
              expect(r.body.data, where).toBeUndefined();
            } else if (denied(caller, need)) {
              expect(r.status, where).toBe(403);
              expect(r.body.errors[0].extensions.code, where).toBe('FORBIDDEN');
              expect(r.body.errors[0].message, where).toMatch(new RegExp(`needs a higher role than ${caller}`));
            } else {
              expect(r.status, `${where}: ${JSON.stringify(r.body)}`).toBe(200);
              expect(r.body.errors, where).toBeUndefined();
              expect(r.body.data[field.name], where).toBeDefined();
            }
          }
        });
      }

      it(`${field.name} over graphql-ws (needs ${need})`, async () => {
        for (const caller of CALLERS) {
          const r = await overWs(op(), caller);
          const where = `${field.name} over graphql-ws as ${caller}`;
          if (unauthenticated(caller)) {
            expect(r.closed, where).toBe(4403);
          } else if (denied(caller, need)) {
            expect(r.open, where).toBe(true);
            const errors = r.message!.type === 'error' ? r.message!.payload : r.message!.payload.errors;
            expect(errors[0].extensions.code, where).toBe('FORBIDDEN');
          } else {
            expect(r.message!.type, `${where}: ${JSON.stringify(r.message)}`).toBe('next');
            expect(r.message!.payload.errors, where).toBeUndefined();
            expect(r.message!.payload.data[field.name], where).toBeDefined();
          }
        }
      });

      it(`${field.name} over SSE (needs ${need})`, async () => {
        for (const caller of CALLERS) {
          const r = await overSse(op(), caller);
          const where = `${field.name} over SSE as ${caller}`;
          if (unauthenticated(caller)) {
            expect(r.status, where).toBe(401);
            expect(r.body.errors[0].extensions.code, where).toBe('UNAUTHENTICATED');
          } else if (denied(caller, need)) {
            expect(r.status, where).toBe(403);
            expect(r.body.errors[0].extensions.code, where).toBe('FORBIDDEN');
          } else {
            expect(r.status, `${where}: ${JSON.stringify(r.body)}`).toBe(200);
            expect(r.body.errors, where).toBeUndefined();
            expect(r.body.data[field.name], where).toBeDefined();
          }
        }
      });
    }
  });
}

for (const [kind, root] of kinds) {
  if (!root) continue;
  describe(`${root.name} root fields × scoped tokens × own/foreign VM`, () => {
    for (const field of Object.values(root.getFields())) {
      const need = neededRole(root, field);
      const vmArg = vmArgOf(field);
      const opWith = (vm?: string) => {
        const base = operationFor(kind, root, field);
        const variables = vm !== undefined && vmArg ? { ...base.variables, [vmArg]: vm } : base.variables;
        const defs = Object.keys(variables).length ? base.query.slice(base.query.indexOf('('), base.query.indexOf(')') + 1) : '';
        const named = getNamedType(field.type);
        const sel = richSelection(named, 2);
        const call = Object.keys(variables).length ? `(${Object.keys(variables).map((a) => `${a}: $${a}`).join(', ')})` : '';
        return { query: `${kind} Scoped${defs} { ${field.name}${call} ${sel} }`, variables };
      };
      const send = (op: { query: string; variables: object }, header: string) =>
        kind === 'subscription'
          ? (async () => {
              const r = await overWsAs(op, header);
              const errors = r.message.type === 'error' ? r.message.payload : r.message.payload.errors;
              return { status: errors ? (errors[0].extensions?.http?.status ?? 200) : 200, body: { data: r.message.payload?.data, errors } };
            })()
          : (async () => {
              const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: header }, body: JSON.stringify(op) });
              return { status: res.status, body: await res.json() };
            })();

      it(`${field.name} (needs ${need})`, async () => {
        for (const c of scopedCallers) {
          const allowed = roles.indexOf(c.role) >= roles.indexOf(need);
          const own = fleet.find((d) => d.running && c.owns(d))!;
          const foreign = fleet.filter((d) => d.running && !c.owns(d));
          const foreignNames = fleet.filter((d) => !c.owns(d)).map((d) => d.name);
          const where = `${field.name} as ${c.who}`;
          if (!allowed) {
            const r = await send(opWith(vmArg ? own.name : undefined), c.header);
            expect(r.body.errors?.[0]?.extensions?.code, where).toBe('FORBIDDEN');
            continue;
          }
          const mine = await send(opWith(vmArg ? vmIdOf(own.name) : undefined), c.header);
          expect(mine.body.errors, `${where}: ${JSON.stringify(mine.body.errors)}`).toBeUndefined();
          expect(mine.body.data[field.name], where).toBeTruthy();
          const text = JSON.stringify(mine.body.data);
          for (const name of foreignNames) expect(text, `${where} names ${name}`).not.toContain(`"${name}"`);
          if (!vmArg) continue;
          for (const d of foreign) {
            for (const ref of [vmIdOf(d.name), d.uuid, d.name]) {
              const r = await send(opWith(ref), c.header);
              const w = `${where}, foreign ${ref}`;
              if (!isNonNullType(field.type)) {
                expect(r.body.errors, w).toBeUndefined();
                expect(r.body.data[field.name], w).toBeNull();
              } else {
                expect(r.body.errors?.[0]?.extensions?.code, w).toBe('NOT_FOUND');
                expect(r.body.errors[0].message, w).toBe(/^\d+$/.test(ref) ? `VM ${ref} not found` : `VM ${JSON.stringify(ref)} not found`);
              }
            }
          }
        }
      });
    }
  });
}

async function overWsAs(op: { query: string; variables: object }, header: string) {
  const s2 = rawSocket(t.url);
  await s2.opened;
  s2.send({ type: 'connection_init', payload: { authorization: header } });
  await s2.next((m) => m.type === 'connection_ack');
  s2.send({ id: 'op', type: 'subscribe', payload: op });
  const message = await s2.next((m) => m.id === 'op' && (m.type === 'next' || m.type === 'error'));
  s2.ws.close();
  await s2.closed;
  return { message };
}

describe('the matrix itself', () => {
  it('covers every root field, and mutations need more than viewer', () => {
    const fields = kinds.flatMap(([, root]) => Object.keys(root?.getFields() ?? {}));
    expect(fields.length).toBeGreaterThanOrEqual(17);
    for (const field of Object.values(schema.getMutationType()!.getFields())) expect(neededRole(schema.getMutationType()!, field)).not.toBe('viewer');
    for (const name of ['tokens', 'createToken', 'revokeToken']) {
      const root = name === 'tokens' ? schema.getQueryType()! : schema.getMutationType()!;
      expect(neededRole(root, root.getFields()[name]!)).toBe('admin');
    }
  });
});
