// Tenancy end to end on libvirt's test driver: owners read from the demo fleet's OpenNebula
// metadata, tokens scoped to an owner seeing only what that owner owns on every REST route, GraphQL
// field and subscription (a foreign VM answers exactly as an unknown one), an admin recording an
// owner in the domain's own metadata, and `npm run tokens` creating and listing scoped tokens.
// The oracle for who owns what is the fleet's own description (demoDomains), not the server.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDomains, writeDemoFleet, type DemoDomain } from '../src/libvirt/demo-fleet.js';
import { collect, startTestApp, type TestApp } from './helpers/app.js';

const run = promisify(execFile);
let t: TestApp;
const fleet = demoDomains();
const tokens: Record<string, string> = {};

const ownedBy = (pred: (d: DemoDomain) => boolean) => fleet.filter(pred).map((d) => d.name).sort();
const idOf = (name: string) => t.app.services.vms.list().find((v) => v.name === name)!.id;
const alice = (d: DemoDomain) => d.owner?.uname === 'alice';
const finance = (d: DemoDomain) => d.owner?.gname === 'finance';

async function createToken(name: string, role: string, scope?: { user?: string; group?: string }) {
  const r = await t.gql(`mutation($n: String!, $r: Role!, $s: TokenScopeInput) { createToken(name: $n, role: $r, scope: $s) { token apiToken { id scope { user group } } } }`, { n: name, r: role, s: scope });
  return r;
}

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
  t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml')), POLL_INTERVAL: '0.5' }, dataDir);
  for (const [name, role, scope] of [
    ['alice', 'viewer', { user: 'alice' }],
    ['finance', 'operator', { group: 'finance' }],
    ['uid5', 'viewer', { user: '5' }],
    ['alice-in-finance', 'viewer', { user: 'alice', group: 'finance' }],
    ['nobody', 'viewer', { user: 'carol' }],
    ['unscoped', 'viewer', undefined],
  ] as const) {
    tokens[name] = (await createToken(`tenancy ${name}`, role, scope)).body.data.createToken.token;
  }
  // Wait until every running VM has a sample (the fleet message carries sampled VMs).
  const want = fleet.filter((d) => d.running).length;
  for (let i = 0; i < 100 && t.app.services.metrics.fleet().vms.filter((v) => v.state === 'running').length < want; i++) await new Promise((r) => setTimeout(r, 100));
});
afterAll(() => t?.stop());

describe('owners from the domain metadata', () => {
  it('reads OpenNebula one:vm owners (user, uid, group, gid) and leaves VMs without metadata ownerless', async () => {
    const r = await t.gql(`{ vms { name owner { user userId group groupId source } } }`);
    const got = Object.fromEntries(r.body.data.vms.map((v: any) => [v.name, v.owner]));
    for (const d of fleet) {
      expect(got[d.name], d.name).toEqual(d.owner ? { user: d.owner.uname, userId: String(d.owner.uid), group: d.owner.gname, groupId: String(d.owner.gid), source: 'opennebula' } : null);
    }
    expect(fleet.some((d) => !d.owner) && fleet.some(alice) && fleet.some(finance)).toBe(true);
  });

  it('filters the fleet by owner (user or group, name or id)', async () => {
    const q = async (owner: string) => (await t.gql(`query($o: String!) { vms(filter: { owner: $o }) { name } }`, { o: owner })).body.data.vms.map((v: any) => v.name).sort();
    expect(await q('alice')).toEqual(ownedBy(alice));
    expect(await q('101')).toEqual(ownedBy(finance));
    expect(await q('nobody-at-all')).toEqual([]);
  });
});

describe('scoped tokens on REST (seeds 000–002)', () => {
  it('live-vms lists only the running VMs the scope owns, and count counts them', async () => {
    const scopes = [
      ['alice', alice],
      ['uid5', alice],
      ['finance', finance],
      ['alice-in-finance', (d: DemoDomain) => alice(d) && finance(d)],
      ['nobody', () => false],
      ['unscoped', () => true],
    ] as const;
    // both ways round: an answer kept for one scope never reaches another
    for (const [tok, pred] of [...scopes, ...[...scopes].reverse()]) {
      const body = await (await t.api('/api/telemetry/live-vms', { token: tokens[tok] })).json();
      expect(body.vms.map((v: any) => v.name).sort(), tok).toEqual(ownedBy((d) => d.running && pred(d)));
      expect(body.count, tok).toBe(body.vms.length);
    }
  });

  it('a foreign or ownerless VM answers 404 exactly as an unknown one, on every per-VM route; an own VM 200', async () => {
    const own = fleet.find((d) => alice(d) && d.running)!;
    const foreign = fleet.find((d) => d.owner?.uname === 'bob' && d.running)!;
    const ownerless = fleet.find((d) => !d.owner && d.running)!;
    const unknownId = 2_000_000_000;
    for (const route of ['/api/telemetry/vm-stats/', '/api/metrics/vm/', '/api/metrics/vm/:/history?metric_name=cpu_usage']) {
      const url = (ref: string | number) => (route.includes(':') ? route.replace(':', String(ref)) : route + ref);
      expect((await t.api(url(idOf(own.name)), { token: tokens.alice })).status, route).toBe(200);
      const unknown = await t.api(url(unknownId), { token: tokens.alice });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ detail: `VM ${unknownId} not found` });
      for (const d of [foreign, ownerless]) {
        for (const ref of [String(idOf(d.name)), d.uuid, d.name]) {
          const res = await t.api(url(encodeURIComponent(ref)), { token: tokens.alice });
          expect(res.status, `${route} ${ref}`).toBe(404);
          expect(await res.json()).toEqual({ detail: /^\d+$/.test(ref) ? `VM ${ref} not found` : `VM ${JSON.stringify(ref)} not found` });
        }
        // The admin (unscoped) sees it.
        expect((await t.api(url(idOf(d.name)))).status).toBe(200);
      }
    }
  });

  it('/api/telemetry/vms lists only the scope\'s VMs', async () => {
    const body = await (await t.api('/api/telemetry/vms', { token: tokens.finance })).json();
    expect(body.vms.map((v: any) => v.name).sort()).toEqual(ownedBy(finance));
    expect(body.count).toBe(body.vms.length);
  });
});

describe('scoped tokens on GraphQL', () => {
  it('vms, vm, fleet and Host.vmCount show only the scope\'s VMs; a foreign vm is null', async () => {
    const r = await t.gql(`{ vms { name } fleet { vms { name ownerUser ownerGroup } } hosts { vmCount } }`, undefined, tokens.alice);
    expect(r.body.data.vms.map((v: any) => v.name).sort()).toEqual(ownedBy(alice));
    expect(r.body.data.fleet.vms.map((v: any) => v.name).sort()).toEqual(ownedBy((d) => alice(d)));
    for (const v of r.body.data.fleet.vms) expect([v.ownerUser, v.ownerGroup]).toEqual(['alice', 'engineering']);
    expect(r.body.data.hosts[0].vmCount).toBe(ownedBy(alice).length);
    const foreign = fleet.find((d) => d.owner?.uname === 'bob')!;
    for (const args of [`id: "${idOf(foreign.name)}"`, `name: "${foreign.name}"`, `uuid: "${foreign.uuid}"`]) {
      const one = await t.gql(`{ vm(${args}) { name } }`, undefined, tokens.alice);
      expect(one.body.data.vm, args).toBeNull();
    }
    expect((await t.gql(`{ vm(name: "${foreign.name}") { name } }`)).body.data.vm.name).toBe(foreign.name);
  });

  it('vmMetrics of a foreign VM fails as for an unknown VM; of an own VM it streams', async () => {
    const ws = t.ws(tokens.alice);
    const foreign = fleet.find((d) => d.owner?.uname === 'bob' && d.running)!;
    const errorOf = async (vmId: string) => {
      const sub = collect(ws, `subscription($v: ID!) { vmMetrics(vmId: $v) { vmId } }`, { v: vmId });
      for (let i = 0; i < 50 && !sub.failure && !sub.seen.length; i++) await new Promise((r) => setTimeout(r, 50));
      sub.dispose();
      return sub.failure as any;
    };
    const foreignErr = await errorOf(String(idOf(foreign.name)));
    const unknownErr = await errorOf('2000000000');
    expect(foreignErr[0].extensions.code).toBe('NOT_FOUND');
    expect(foreignErr[0].message).toBe(`VM ${idOf(foreign.name)} not found`);
    expect(unknownErr[0].message).toBe('VM 2000000000 not found');
    const own = fleet.find((d) => alice(d) && d.running)!;
    const sub = collect(ws, `subscription($v: ID!) { vmMetrics(vmId: $v) { vmId } }`, { v: own.name });
    expect((await sub.next(() => true)).vmMetrics.vmId).toBe(String(idOf(own.name)));
    sub.dispose();
  });

  it('fleetMetrics carries only the scope\'s VMs, tick after tick', async () => {
    const ws = t.ws(tokens.finance);
    const sub = collect(ws, `subscription { fleetMetrics { timestamp columns rows } }`);
    const first = await sub.next(() => true);
    const second = await sub.next((m: any) => m.fleetMetrics.timestamp !== first.fleetMetrics.timestamp);
    for (const m of [first, second]) {
      const nameAt = m.fleetMetrics.columns.indexOf('name');
      expect(m.fleetMetrics.rows.map((r: unknown[]) => r[nameAt]).sort()).toEqual(ownedBy(finance));
    }
    sub.dispose();
  });

  it('one scoped tick per scope per tick, shared by every subscriber of that scope', async () => {
    const { metrics } = t.app.services;
    const a = metrics.watchFleet({ user: 'alice', group: null })[Symbol.asyncIterator]();
    const b = metrics.watchFleet({ user: 'alice', group: null })[Symbol.asyncIterator]();
    const c = metrics.watchFleet({ user: null, group: 'finance' })[Symbol.asyncIterator]();
    await Promise.all([a.next(), b.next(), c.next()]); // the current overview
    const [ta, tb, tc] = await Promise.all([a.next(), b.next(), c.next()]);
    expect(ta.value).toBe(tb.value); // the same object: built once
    expect(tc.value).not.toBe(ta.value);
    expect(ta.value!.ts).toBe(tc.value!.ts);
    await Promise.all([a.return?.(), b.return?.(), c.return?.()]);
  });

  it('vmStateChanged without a VM streams only the scope\'s VMs; with a foreign VM it fails as unknown', async () => {
    const ws = t.ws(tokens.alice);
    const foreign = fleet.find((d) => d.owner?.uname === 'bob')!;
    const bad = collect(ws, `subscription($v: ID) { vmStateChanged(vmId: $v) { state } }`, { v: foreign.name });
    for (let i = 0; i < 50 && !bad.failure; i++) await new Promise((r) => setTimeout(r, 50));
    expect((bad.failure as any)[0].message).toBe(`VM ${JSON.stringify(foreign.name)} not found`);
    const all = collect(ws, `subscription { vmStateChanged { vm { name } event } }`);
    const admin = collect(t.ws(), `subscription { vmStateChanged { vm { name } event } }`);
    await new Promise((r) => setTimeout(r, 300));
    // Suspend a foreign VM, then an own one; once the own one's change arrives, the foreign one's
    // (published first) would have too.
    const host = t.app.services.hosts.list()[0]!;
    const theirs = fleet.find((d) => d.owner?.uname === 'bob' && d.running)!;
    const mine = fleet.find((d) => alice(d) && d.running)!;
    await host.conn!.suspend(theirs.uuid);
    await new Promise((r) => setTimeout(r, 300));
    await host.conn!.suspend(mine.uuid);
    await all.next((m: any) => m.vmStateChanged.vm.name === mine.name);
    for (const d of [theirs, mine]) await host.conn!.resume(d.uuid);
    await all.next((m: any) => m.vmStateChanged.vm.name === mine.name && m.vmStateChanged.event !== 'suspended');
    expect(t.app.services.vms.list().find((v) => v.name === theirs.name)!.state).toBe('running');
    await admin.next((m: any) => m.vmStateChanged.vm.name === theirs.name); // it was published
    admin.dispose();
    expect(all.seen.every((m: any) => ownedBy(alice).includes(m.vmStateChanged.vm.name))).toBe(true);
    all.dispose();
  });

  it('me shows the scope; an admin token cannot be scoped (400)', async () => {
    expect((await t.gql(`{ me { role scope { user group } } }`, undefined, tokens.finance)).body.data.me).toEqual({ role: 'operator', scope: { user: null, group: 'finance' } });
    expect((await t.gql(`{ me { scope { user } } }`)).body.data.me.scope).toBeNull();
    const r = await createToken('scoped admin', 'admin', { user: 'alice' });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(/admin token sees every VM/);
  });
});

describe('an admin records an owner where the cloud recorded none', () => {
  it('writes it into the domain metadata (vmpulse namespace); the scope then sees the VM; clearing removes it', async () => {
    const ownerless = fleet.find((d) => !d.owner && d.running)!;
    const set = await t.gql(`mutation($v: ID!) { setVmOwner(vmId: $v, user: "alice", group: "engineering") { name owner { user group source } } }`, { v: ownerless.name });
    expect(set.body.data.setVmOwner.owner).toEqual({ user: 'alice', group: 'engineering', source: 'vmpulse' });
    // libvirt's own XML of the domain now carries the element.
    const host = t.app.services.hosts.list()[0]!;
    const xml = await host.conn!.domainXml(ownerless.uuid);
    expect(xml).toMatch(/<vmpulse:owner xmlns:vmpulse="https:\/\/vmpulse.dev\/xmlns\/libvirt\/owner\/1.0">\s*<vmpulse:user>alice<\/vmpulse:user>\s*<vmpulse:group>engineering<\/vmpulse:group>/);
    expect((await t.api(`/api/telemetry/vm-stats/${idOf(ownerless.name)}`, { token: tokens.alice })).status).toBe(200);
    // Re-read on the next definition event or re-list: the parsed owner is the same.
    await t.app.services.vms.syncHost(host);
    expect(t.app.services.vms.ownerOf(idOf(ownerless.name))?.user).toBe('alice');

    const cleared = await t.gql(`mutation($v: ID!) { setVmOwner(vmId: $v) { owner { user } } }`, { v: ownerless.name });
    expect(cleared.body.data.setVmOwner.owner).toBeNull();
    expect(await host.conn!.domainXml(ownerless.uuid)).not.toMatch(/vmpulse:owner/);
    expect((await t.api(`/api/telemetry/vm-stats/${idOf(ownerless.name)}`, { token: tokens.alice })).status).toBe(404);
  });

  it('refuses to override an OpenNebula owner (409) and leaves it unchanged; only admins may set owners (403)', async () => {
    const owned = fleet.find((d) => d.owner?.uname === 'bob')!;
    const r = await t.gql(`mutation($v: ID!) { setVmOwner(vmId: $v, user: "alice") { name } }`, { v: owned.name });
    expect(r.body.errors[0].extensions.code).toBe('CONFLICT');
    expect(t.app.services.vms.ownerOf(idOf(owned.name))?.user).toBe('bob');
    const denied = await t.gql(`mutation($v: ID!) { setVmOwner(vmId: $v, user: "bob") { name } }`, { v: owned.name }, tokens.finance);
    expect(denied.status).toBe(403);
  });
});

describe('an owner kept in PostgreSQL', () => {
  it('a VM libvirt no longer has (as on a read-only host) keeps its owner in the database, across a restart', async () => {
    // queue-01 is shut off and carries no owner metadata: undefine it, then record its owner.
    const gone = fleet.find((d) => !d.owner && !d.running)!;
    const id = idOf(gone.name);
    const host = t.app.services.hosts.list()[0]!;
    await host.conn!.undefine(gone.uuid);
    for (let i = 0; i < 50 && t.app.services.vms.get(id)?.present; i++) await new Promise((r) => setTimeout(r, 100));
    const set = await t.gql(`mutation($v: ID!) { setVmOwner(vmId: $v, user: "dora", group: "archive") { owner { user group source } } }`, { v: String(id) });
    expect(set.body.data.setVmOwner.owner).toEqual({ user: 'dora', group: 'archive', source: 'database' });
    const dora = (await createToken('dora', 'viewer', { user: 'dora' })).body.data.createToken.token;
    const dir = t.dataDir;
    await t.stop();
    t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml')) }, dir);
    // The fleet file defines it again: the domain has no metadata, the database's owner applies.
    const after = await t.gql(`query($v: ID!) { vm(id: $v) { name owner { user group source } } }`, { v: String(id) }, dora);
    expect(after.body.data.vm).toEqual({ name: gone.name, owner: { user: 'dora', group: 'archive', source: 'database' } });
  });
});

describe('npm run tokens', () => {
  it('creates a scoped token and lists every token with its scope', async () => {
    const cli = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../src/cli/tokens.ts'), ...args], {
        env: { ...process.env, DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' },
      });
    const created = await cli(['create', '--name', 'cli scoped', '--role', 'viewer', '--group', 'engineering']);
    expect(created.stdout).toMatch(/created token \d+ \(cli scoped, viewer, scope group=engineering\)/);
    const token = created.stdout.trim().split('\n').at(-1)!;
    const body = await (await t.api('/api/telemetry/live-vms', { token })).json();
    expect(body.vms.map((v: any) => v.name).sort()).toEqual(ownedBy((d) => d.running && d.owner?.gname === 'engineering'));
    const list = (await cli(['list'])).stdout;
    expect(list).toMatch(/\tcli scoped\tviewer\t[^\t]+\tgroup=engineering\t/);
    expect(list).toMatch(/\ttenancy alice-in-finance\tviewer\t[^\t]+\tuser=alice group=finance\t/);
    expect(list).toMatch(/\ttenancy unscoped\tviewer\t[^\t]+\tall VMs\t/);
    const tokensQuery = await t.gql(`{ tokens { name scope { user group } } }`);
    expect(tokensQuery.body.data.tokens.find((k: any) => k.name === 'cli scoped').scope).toEqual({ user: null, group: 'engineering' });
  });
});
