// Tenancy on a real QEMU/TCG guest under libvirtd: Nova-style owner metadata written with
// `virsh metadata` (as Nova's LibvirtConfigGuestMetaNovaOwner formats it) is picked up by the
// periodic re-list and scopes tokens; with it removed, an admin's owner lands in the domain's
// metadata, where `virsh metadata` (the oracle) reads it back, live and persistent.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOVA_NS, VMPULSE_NS } from '../src/libvirt/ownership.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from './guest/qemu-guest.js';

const NAME = `vmpulse-tenancy-${randomBytes(3).toString('hex')}`;
const NOVA = NOVA_NS[0]; // nova/1.1, as current Nova writes it
let t: TestApp;
let guest: Guest | undefined;

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  guest = await createGuest(NAME);
  await startGuest(NAME);
  t = await startTestApp({ LIBVIRT_URI: 'qemu:///system', INVENTORY_INTERVAL: '1' });
}, 30 * 60_000);

afterAll(async () => {
  await guest?.cleanup();
  await t?.stop();
});

async function ownerOf(): Promise<any> {
  const r = await t.gql(`query($n: String!) { vm(name: $n) { owner { user userId group groupId source } } }`, { n: NAME });
  return r.body.data.vm?.owner ?? null;
}

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const token = async (name: string, group: string) =>
  (await t.gql(`mutation($n: String!, $g: String!) { createToken(name: $n, role: viewer, scope: { group: $g }) { token } }`, { n: name, g: group })).body.data.createToken.token as string;

describe('real QEMU guest with Nova owner metadata', () => {
  it('reads nova:owner set by virsh metadata, and scopes tokens by the project', async () => {
    expect(await ownerOf()).toBeNull();
    const instance =
      '<instance><name>tenancy</name><owner><user uuid="4f1c0e4e-user">alice</user><project uuid="9d2b5a10-proj">tenant-a</project></owner></instance>';
    await virsh(['metadata', NAME, NOVA, '--key', 'nova', '--set', instance, '--live', '--config']);
    const owner = await until(ownerOf, (o) => o !== null);
    expect(owner).toEqual({ user: 'alice', userId: '4f1c0e4e-user', group: 'tenant-a', groupId: '9d2b5a10-proj', source: 'nova' });

    const mine = await token('tenant-a viewer', 'tenant-a');
    const theirs = await token('tenant-b viewer', '9d2b5a10-other');
    const byProjectId = await token('tenant-a by id', '9d2b5a10-proj');
    for (const tok of [mine, byProjectId]) {
      const live = await (await t.api('/api/telemetry/live-vms', { token: tok })).json();
      expect(live.vms.map((v: any) => v.name)).toEqual([NAME]);
      expect((await t.api(`/api/metrics/vm/${NAME}`, { token: tok })).status).toBe(200);
    }
    const other = await (await t.api('/api/telemetry/live-vms', { token: theirs })).json();
    expect(other).toMatchObject({ count: 0, vms: [] });
    const hidden = await t.api(`/api/metrics/vm/${NAME}`, { token: theirs });
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toEqual({ detail: `VM ${JSON.stringify(NAME)} not found` });

    // Nova owns it: an admin cannot override.
    const refused = await t.gql(`mutation($n: ID!) { setVmOwner(vmId: $n, user: "bob") { name } }`, { n: NAME });
    expect(refused.body.errors[0].extensions.code).toBe('CONFLICT');
  });

  it('without cloud metadata, an admin-set owner is written to the domain, live and persistent', async () => {
    await virsh(['metadata', NAME, NOVA, '--remove', '--live', '--config']);
    expect(await until(ownerOf, (o) => o === null)).toBeNull();

    const set = await t.gql(`mutation($n: ID!) { setVmOwner(vmId: $n, user: "carol", group: "ops") { owner { user group source } } }`, { n: NAME });
    expect(set.body.data.setVmOwner.owner).toEqual({ user: 'carol', group: 'ops', source: 'vmpulse' });
    for (const where of ['--live', '--config']) {
      const xml = await virsh(['metadata', NAME, VMPULSE_NS, where]);
      expect(xml.replace(/\s+/g, ''), where).toBe('<owner><user>carol</user><group>ops</group></owner>');
    }
    const ops = await token('ops viewer', 'ops');
    expect((await (await t.api('/api/telemetry/live-vms', { token: ops })).json()).vms.map((v: any) => v.name)).toEqual([NAME]);
  });
});
