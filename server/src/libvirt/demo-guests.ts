// `DEMO_GUESTS=N npm start`: N tiny real QEMU/TCG guests under the local libvirtd, so a newcomer
// sees real charts and can take real memory dumps. Started before the app (the collector then
// finds them on qemu:///system), removed again when vmpulse stops. libvirtd, QEMU, the kernel and
// busybox are installed when missing (scripts/libvirtd.sh, as root), the guest image is built
// once (scripts/guest/build.sh) and reused.
import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, removeDomain, searchableByAll, startGuest, type Guest } from './qemu-guest.js';

export interface DemoGuests {
  names: string[];
  /** destroys and undefines the guests and removes their disks; synchronous, so it also runs in a process 'exit' handler */
  stop(): void;
}

export interface DemoGuestOptions {
  count: number;
  /** where the guest image and disks go (QEMU, running as libvirt-qemu, must be able to read them) */
  dir: string;
  /** domain names are `<prefix>-<n>` */
  prefix?: string;
  memoryMiB?: number;
  log: Logger;
}

/** DATA_DIR/demo-guests when QEMU can reach it, else under libvirt's own images directory. */
export function demoGuestDir(dataDir: string): string {
  return searchableByAll(dataDir) ? join(dataDir, 'demo-guests') : '/var/lib/libvirt/images/vmpulse-demo-guests';
}

export async function startDemoGuests(o: DemoGuestOptions): Promise<DemoGuests> {
  const prefix = o.prefix ?? 'vmpulse-demo';
  const t0 = Date.now();
  o.log.info({ count: o.count }, 'DEMO_GUESTS: starting libvirtd (installing it when missing) and building the guest image');
  await ensureLibvirtd();
  const image = await ensureGuestImage(join(o.dir, 'image'));
  const guests: Guest[] = [];
  const stop = () => {
    for (const g of guests.splice(0)) {
      try {
        g.removeSync();
      } catch (err) {
        o.log.warn({ guest: g.name, err: (err as Error).message }, 'DEMO_GUESTS: could not remove a guest');
      }
    }
  };
  try {
    for (let i = 1; i <= o.count; i++) {
      const name = `${prefix}-${i}`;
      await removeDomain(name); // left over from a run that was killed
      const guest = await createGuest(name, { dir: join(o.dir, 'guests'), image, memoryMiB: o.memoryMiB ?? 128, ip: `10.79.0.${i + 1}/24` });
      guests.push(guest);
      await startGuest(name);
    }
  } catch (err) {
    stop();
    throw err;
  }
  const names = guests.map((g) => g.name);
  o.log.info({ guests: names, ms: Date.now() - t0 }, 'DEMO_GUESTS: real guests running on qemu:///system');
  return { names, stop };
}
