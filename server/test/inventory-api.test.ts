// The platform end to end on libvirt's test driver: inventory, REST live-vms, GraphQL over HTTP
// and graphql-ws, auth, stable ids across restarts.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { until } from './helpers/faults.js';

let t: TestApp;
let fleetUri: string;

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
  fleetUri = writeDemoFleet(path.join(dataDir, 'fleet.xml'));
  t = await startTestApp({ LIBVIRT_URI: fleetUri }, dataDir);
});
afterAll(() => t?.stop());

const running = () => t.app.services.vms.list({ state: 'running' });

describe('GET /api/telemetry/live-vms (seed 000)', () => {
  it('lists the running VMs in the documented shape and units', async () => {
    const res = await t.api('/api/telemetry/live-vms');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(['count', 'source', 'vms']);
    expect(body.source).toBe('libvirt');
    expect(body.count).toBe(body.vms.length);
    // The demo fleet runs 6 of its 8 domains (queue-01 and mon-01 are defined shut off).
    expect(body.vms.map((v: any) => v.name).sort()).toEqual(['app-01', 'build-01', 'cache-01', 'db-01', 'search-01', 'web-01']);
    for (const vm of body.vms) {
      expect(Object.keys(vm).sort()).toEqual(['cpu_count', 'cputime', 'id', 'memory_max', 'memory_used', 'name', 'state', 'uuid']);
      expect(vm.state).toBe('running');
      expect(Number.isInteger(vm.id)).toBe(true);
      expect(vm.cpu_count).toBeGreaterThan(0);
      expect(typeof vm.memory_max).toBe('number');
      expect(vm.memory_max).toBeGreaterThanOrEqual(vm.memory_used);
      expect(vm.memory_max).toBeGreaterThan(1024); // KB, not MB
    }
  });

  it('answers 401 with {"detail"} without a token or with a wrong one, 200 with a viewer token', async () => {
    for (const token of [null, 'wrong-token']) {
      const res = await t.api('/api/telemetry/live-vms', { token });
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(Object.keys(body)).toEqual(['detail']);
      expect(body.detail).toMatch(/token/);
    }
    const created = await t.gql(`mutation { createToken(name: "ro", role: viewer) { token apiToken { role } } }`);
    const viewer = created.body.data.createToken.token;
    expect((await t.api('/api/telemetry/live-vms', { token: viewer })).status).toBe(200);
    expect((await t.gql(`{ me { name role } }`, undefined, viewer)).body.data.me).toEqual({ name: 'ro', role: 'viewer' });
  });

  it('answers unknown paths and methods in the family error body', async () => {
    const missing = await t.api('/api/telemetry/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: 'Not Found' });
    const wrongMethod = await t.api('/api/telemetry/live-vms', { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
  });

  it("carries each VM's exact counters as they move, tick after tick", async () => {
    // The counters as written on the wire (exact 64-bit integers, never rounded through a double).
    const cputimes = async () => {
      const text = await (await t.api('/api/telemetry/live-vms')).text();
      return new Map([...text.matchAll(/"id":(\d+),.*?"cputime":(\d+)\}/g)].map((m) => [Number(m[1]), BigInt(m[2]!)]));
    };
    const first = await cputimes();
    expect(first.size).toBe(running().length);
    // The test driver's cputime rises with the wall clock: a later answer must carry later values.
    await until('a later tick', async () => [...(await cputimes())].every(([id, c]) => c > first.get(id)!), 10_000);
    const second = await cputimes();
    for (const vm of running()) {
      expect(second.get(vm.id)! > first.get(vm.id)!).toBe(true);
      expect(second.get(vm.id)! <= vm.cputime).toBe(true); // the inventory's value, as of now or later
      expect(second.get(vm.id)! > 2n ** 53n).toBe(true); // beyond a double's exact integers
    }
  });

  it('compresses large responses for clients that accept gzip', async () => {
    const res = await t.api('/api/telemetry/live-vms', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect((await res.json()).source).toBe('libvirt'); // fetch inflates it
  });
});

describe('GraphQL over HTTP', () => {
  it('answers { vms { id name state } } with every domain of the fleet', async () => {
    const { status, body } = await t.gql(`{ vms { id name state cpuCount memoryMax cputime host { name demo } } }`);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.vms.length).toBe(8); // the demo fleet, shut-off VMs included
    const v = body.data.vms[0];
    expect(typeof v.cputime).toBe('string'); // BigInt scalar: exact decimal string
    expect(BigInt(v.cputime)).toBeGreaterThanOrEqual(0n);
  });

  it('finds one VM by id, uuid or name, and filters', async () => {
    const vm = running()[0]!;
    for (const arg of [`id: "${vm.id}"`, `uuid: "${vm.uuid}"`, `name: "${vm.name}"`]) {
      const { body } = await t.gql(`{ vm(${arg}) { id name uuid } }`);
      expect(body.data.vm).toEqual({ id: String(vm.id), name: vm.name, uuid: vm.uuid });
    }
    const none = await t.gql(`{ vm(name: "no-such-vm") { id } }`);
    expect(none.body.data.vm).toBeNull();
    const filtered = await t.gql(`{ vms(filter: { state: shutoff }) { state } }`);
    expect(filtered.body.data.vms.length).toBeGreaterThan(0);
    expect(new Set(filtered.body.data.vms.map((v: any) => v.state))).toEqual(new Set(['shutoff']));
  });

  it('rejects an invalid VM id with a clear message', async () => {
    for (const bad of ['-3', '0', '99999999999', 'a/b']) {
      const { body } = await t.gql(`query($id: ID) { vm(id: $id) { id } }`, { id: bad });
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
      expect(body.errors[0].message).toMatch(/invalid vm_id/);
    }
  });

  it('answers 401 without a token and 403 for a role too small', async () => {
    const anon = await t.gql(`{ vms { id } }`, undefined, null);
    expect(anon.status).toBe(401);
    const created = await t.gql(`mutation { createToken(name: "viewer", role: viewer) { token } }`);
    const viewer = created.body.data.createToken.token;
    const denied = await t.gql(`{ tokens { id } }`, undefined, viewer);
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(denied.body.data).toBeNull();
  });

  it('creates, lists and revokes tokens; a revoked token stops working', async () => {
    const { body } = await t.gql(`mutation { createToken(name: "ops", role: operator) { token apiToken { id role prefix } } }`);
    const { token, apiToken } = body.data.createToken;
    expect(token.startsWith(apiToken.prefix)).toBe(true);
    const list = await t.gql(`{ tokens { id name role revokedAt } }`);
    expect(list.body.data.tokens.find((k: any) => k.id === apiToken.id)).toMatchObject({ name: 'ops', role: 'operator', revokedAt: null });
    expect((await t.api('/api/telemetry/live-vms', { token })).status).toBe(200);
    await t.gql(`mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }`, { id: apiToken.id });
    expect((await t.api('/api/telemetry/live-vms', { token })).status).toBe(401);
  });
});

describe('graphql-ws', () => {
  it('pushes vmStateChanged when a domain starts and stops, the current state first', async () => {
    const host = t.app.services.hosts.list()[0]!;
    const vm = t.app.services.vms.list({ state: 'shutoff' })[0]!;
    const sub = collect(t.ws(), `subscription($id: ID) { vmStateChanged(vmId: $id) { vm { id name state } previousState state event } }`, { id: vm.name });
    const first = await sub.next(() => true);
    expect(first).toMatchObject({ vmStateChanged: { event: 'current', state: 'shutoff', vm: { id: String(vm.id) } } });
    await host.conn!.create(vm.uuid);
    const started = await sub.next((m: any) => m.vmStateChanged.state === 'running');
    expect(started).toMatchObject({ vmStateChanged: { previousState: 'shutoff', event: 'started', vm: { name: vm.name, state: 'running' } } });
    const live = await (await t.api('/api/telemetry/live-vms')).json();
    expect(live.vms.map((v: any) => v.name)).toContain(vm.name);
    await host.conn!.destroy(vm.uuid);
    await sub.next((m: any) => m.vmStateChanged.state === 'shutoff' && m.vmStateChanged.event === 'stopped');
    sub.dispose();
  });

  it('closes a socket whose connection_init carries no valid token', async () => {
    const client = t.ws('wrong');
    const closed = new Promise<number>((resolve) => client.on('closed', (e: any) => resolve(e.code)));
    const sub = collect(client, `subscription { vmStateChanged { state } }`);
    expect(await closed).toBe(4403);
    expect(sub.seen).toEqual([]);
  });
});

describe('stable ids', () => {
  it('keeps every VM id across a restart', async () => {
    const before = new Map(t.app.services.vms.list().map((v) => [v.uuid, v.id]));
    await t.stop();
    t = await startTestApp({ LIBVIRT_URI: fleetUri }, t.dataDir);
    const after = new Map(t.app.services.vms.list().map((v) => [v.uuid, v.id]));
    expect(after).toEqual(before);
  });
});
