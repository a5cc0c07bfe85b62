// Real QEMU/TCG test guests under the system libvirtd, for integration tests and the benchmark.
// The guest building lives in src/libvirt/qemu-guest.ts (DEMO_GUESTS uses it too); this module
// fixes where the tests keep their guests and adds what only tests need.
import { join } from 'node:path';
import {
  REPO_ROOT,
  SYSTEM_URI,
  createGuest as createGuestIn,
  ensureLibvirtd as ensureLibvirtdOnce,
  ensureGuestImage as ensureGuestImageIn,
  searchableByAll,
  virsh,
  type CreateGuestOptions,
  type Guest,
  type GuestImage,
} from '../../src/libvirt/qemu-guest.js';

export { REPO_ROOT, destroyGuest, guestDomainXml, run, startGuest, virsh } from '../../src/libvirt/qemu-guest.js';
export type { Guest, GuestDomainOptions, GuestImage } from '../../src/libvirt/qemu-guest.js';
export const LIBVIRT_URI = SYSTEM_URI;

// QEMU runs as libvirt-qemu and must reach kernel, initrd and disk: inside a repo
// under a 0700 directory (e.g. /root) it cannot, so fall back to libvirt's own dir.
export const TEST_DIR =
  process.env.VMPULSE_TEST_DIR ??
  (searchableByAll(REPO_ROOT) ? join(REPO_ROOT, '.vmpulse-test') : '/var/lib/libvirt/images/vmpulse-test');
export const GUEST_IMAGE_DIR = join(TEST_DIR, 'guest');
export const GUESTS_DIR = join(TEST_DIR, 'guests');

/** Starts libvirtd when it is not running; other sessions on this machine share it and may be
 * restarting it, so a failed start is tried again (3 times, 5 s apart). */
export async function ensureLibvirtd(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureLibvirtdOnce();
    } catch (err) {
      if (attempt === 3) throw err;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

/** Builds (or reuses) the guest kernel + initramfs in <repo>/.vmpulse-test/guest/. */
export function ensureGuestImage(): Promise<GuestImage> {
  return ensureGuestImageIn(GUEST_IMAGE_DIR);
}

/** Creates the qcow2 disk and defines (does not start) the domain in GUESTS_DIR. `cleanup()` removes everything. */
export function createGuest(name: string, opts: Partial<Omit<CreateGuestOptions, 'dir'>> = {}): Promise<Guest> {
  const image = opts.image ?? { kernel: join(GUEST_IMAGE_DIR, 'vmlinuz'), initrd: join(GUEST_IMAGE_DIR, 'initrd.img') };
  return createGuestIn(name, { ...opts, dir: GUESTS_DIR, image });
}

/** `virsh domstats` for one domain as a flat key -> value map (values kept as strings: 64-bit counters). */
export async function domstats(name: string, groups = ['--state', '--cpu-total', '--balloon', '--interface', '--block']): Promise<Map<string, string>> {
  const out = await virsh(['domstats', ...groups, name]);
  const stats = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^\s+([^=\s]+)=(.*)$/.exec(line);
    if (m) stats.set(m[1]!, m[2]!);
  }
  return stats;
}
