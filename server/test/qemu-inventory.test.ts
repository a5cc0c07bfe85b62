// A real QEMU/TCG guest under libvirtd: defined, started and stopped while a graphql-ws client
// watches vmStateChanged and live-vms shows it running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { createGuest, destroyGuest, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from './guest/qemu-guest.js';

const NAME = 'vmpulse-inventory-guest';
let t: TestApp;
let guest: Guest | undefined;

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  await virsh(['destroy', NAME]).catch(() => undefined); // left over by a killed run
  await virsh(['undefine', NAME]).catch(() => undefined);
  t = await startTestApp({ LIBVIRT_URI: 'qemu:///system' });
}, 30 * 60_000);

afterAll(async () => {
  await guest?.cleanup();
  await t?.stop();
});

describe('real QEMU guest', () => {
  it('appears when defined, and its start and stop reach a graphql-ws subscriber and live-vms', async () => {
    const all = collect(t.ws(), `subscription { vmStateChanged { vm { id name uuid state } previousState state event } }`);
    guest = await createGuest(NAME);
    const defined = await all.next((m: any) => m.vmStateChanged.vm.name === NAME);
    expect(defined.vmStateChanged).toMatchObject({ state: 'shutoff', vm: { uuid: guest.uuid } });
    const id = defined.vmStateChanged.vm.id;

    const mine = collect(t.ws(), `subscription($id: ID) { vmStateChanged(vmId: $id) { state event previousState } }`, { id });
    await mine.next((m: any) => m.vmStateChanged.event === 'current');

    await startGuest(NAME);
    const started = await mine.next((m: any) => m.vmStateChanged.state === 'running');
    expect(started.vmStateChanged).toMatchObject({ event: 'started', previousState: 'shutoff' });

    const live = await (await t.api('/api/telemetry/live-vms')).json();
    const row = live.vms.find((v: any) => v.name === NAME);
    expect(row).toMatchObject({ id: Number(id), uuid: guest.uuid, state: 'running', cpu_count: 1, memory_max: 128 * 1024 });

    await destroyGuest(NAME);
    const stopped = await mine.next((m: any) => m.vmStateChanged.state === 'shutoff' && m.vmStateChanged.event !== 'current');
    expect(stopped.vmStateChanged.event).toBe('stopped');
    const after = await (await t.api('/api/telemetry/live-vms')).json();
    expect(after.vms.map((v: any) => v.name)).not.toContain(NAME);

    await guest.cleanup();
    guest = undefined;
    const gone = await all.next((m: any) => m.vmStateChanged.vm.name === NAME && m.vmStateChanged.state === 'undefined');
    expect(gone.vmStateChanged.event).toBe('undefined');
  });
});
