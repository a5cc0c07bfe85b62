// Optional: runs only when a libvirtd answers on qemu:///system. The
// real-guest part also needs the guest image of server/test/guest (built by
// scripts/guest/build.sh) and is skipped without it.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../connection.js';
import type { DomainLifecycleEvent } from '../types.js';
import { isUnsupported, sleep, uniqueName, waitFor } from './helpers.js';

function libvirtdAnswers(): boolean {
  try {
    execFileSync('timeout', ['5', 'virsh', '-c', 'qemu:///system', 'uri'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const haveDaemon = libvirtdAnswers();
const guestModule = '../../../test/guest/qemu-guest.js';
type GuestModule = typeof import('../../../test/guest/qemu-guest.js');

describe.skipIf(!haveDaemon)('qemu:///system (read-only)', () => {
  it('opens read-only and lists domains', async () => {
    const conn = await LibvirtConnection.open('qemu:///system', { readOnly: true });
    expect(await conn.uri()).toBe('qemu:///system');
    expect(conn.isAlive()).toBe(true);
    const list = await conn.listAllDomains();
    for (const d of list) expect(typeof d.maxMemKiB).toBe('bigint');
    const stats = await conn.getAllDomainStats({ groups: ['state'] });
    expect(stats.length).toBe(list.length);
    await conn.close();
  });
});

describe.skipIf(!haveDaemon)('qemu:///system with a real guest', () => {
  let g: GuestModule | undefined;
  let guest: Awaited<ReturnType<GuestModule['createGuest']>> | undefined;
  let conn: LibvirtConnection;
  const events: DomainLifecycleEvent[] = [];
  const name = uniqueName('vmpulse-native');

  beforeAll(async () => {
    g = (await import(guestModule)) as GuestModule;
    if (!existsSync(join(g.GUEST_IMAGE_DIR, 'vmlinuz'))) {
      g = undefined;
      return;
    }
    conn = await LibvirtConnection.open('qemu:///system');
    conn.onDomainEvent((e) => {
      if (e.name === name) events.push(e);
    });
    guest = await g.createGuest(name);
  }, 120_000);

  afterAll(async () => {
    await guest?.cleanup();
    await conn?.close();
  }, 60_000);

  it('events, bulk and per-call stats, memory dump with job progress', async (ctx) => {
    if (!g || !guest) ctx.skip();
    const uuid = guest!.uuid;
    await conn.create(uuid);
    await waitFor(() => events.some((e) => e.event === 'started'), 30_000);

    // Wait for the guest's init loop to produce disk + network traffic.
    const t0 = Date.now();
    for (;;) {
      const [r] = await conn.getAllDomainStats({ uuids: [uuid], groups: ['block', 'interface'] });
      if ((r?.params['block.0.wr.bytes'] ?? 0n) !== 0n && (r?.params['net.0.tx.bytes'] ?? 0n) !== 0n) break;
      expect(Date.now() - t0, 'guest never became active').toBeLessThan(30_000);
      await sleep(250);
    }
    const [bulk] = await conn.getAllDomainStats({ uuids: [uuid] });
    for (const k of ['cpu.time', 'balloon.current', 'net.0.rx.bytes', 'block.0.rd.bytes', 'vcpu.0.time']) {
      expect(typeof bulk!.params[k], k).toBe('bigint');
    }
    // The devices the addon reads from the domain XML are the ones the guest was defined with.
    const [per] = await conn.domainStatsPerCall([uuid]);
    expect(per!.error).toBeUndefined();
    expect(per!.devices).toEqual({ interfaces: [guest!.tapDev], blocks: ['vda'] });
    expect(typeof per!.params['net.0.tx.bytes']).toBe('bigint');
    expect(typeof per!.params['block.0.wr.bytes']).toBe('bigint');
    expect(typeof per!.params['cpu.user']).toBe('bigint');

    // Memory-only ELF dump; job stats answered from the pool meanwhile.
    const path = join(g!.GUESTS_DIR, `${name}.elf`);
    const dump = conn.coreDump(uuid, path, { format: 'elf', live: true });
    const seen: string[] = [];
    const dumpStart = performance.now();
    let done = false;
    void dump.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      const js = await conn.jobStats(uuid).catch((e: unknown) => (isUnsupported(e) ? undefined : Promise.reject(e)));
      if (js) seen.push(js.type);
      await sleep(20);
    }
    await dump;
    console.log(
      `[timing] ELF dump of a 128 MiB guest: ${(performance.now() - dumpStart).toFixed(0)} ms; job polls: ${seen.length} (${[...new Set(seen)].join(',')})`,
    );
    expect(statSync(path).size).toBeGreaterThan(64 * 1024 * 1024);
    expect(seen.length).toBeGreaterThan(0);
    const completed = await conn.jobStats(uuid, { completed: true }).catch(() => undefined);
    if (completed) expect(['completed', 'none']).toContain(completed.type);
    rmSync(path, { force: true });

    await conn.destroy(uuid);
    await waitFor(() => events.some((e) => e.event === 'stopped'), 30_000);
  }, 180_000);
});
