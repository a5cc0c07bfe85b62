// Real QEMU/TCG guests under the system libvirtd: as many as the machine holds (up to `max`), then
// the collector's CPU per domain per tick and libvirt's own bulk-stats cost per domain.
// Every guest created here is named vmpbench-<pid>-<n> and removed again, even on failure.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createGuest, destroyGuest, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from '../../server/test/guest/qemu-guest.js';

export { destroyGuest };
import { loadavg1, round, runJsonChild, sleep } from './util.js';

export interface GuestBoot {
  name: string;
  memoryMiB: number;
  bootS: number | null;
  loadavg1After: number;
  error?: string;
}

const registry = new Set<Guest>();

/** Removes every guest this process created (bounded by virsh's own timeouts). */
export async function cleanupGuests(): Promise<string[]> {
  const problems: string[] = [];
  for (const g of [...registry]) {
    try {
      await g.cleanup();
    } catch (err) {
      problems.push(`${g.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    registry.delete(g);
  }
  return problems;
}

function consoleShowsUp(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes('vmpulse-guest: up');
  } catch {
    return false;
  }
}

/** Boots guests one by one until `max`, a boot failure, or the host's 1-min load passes `maxLoad`. */
export async function bootGuests(opts: { max: number; memoryMiB: number; bootTimeoutMs: number; maxLoad: number; log: (s: string) => void }): Promise<{ booted: Guest[]; boots: GuestBoot[]; stopReason: string; otherDomains: string[] }> {
  opts.log('guests: starting libvirtd and building the guest image if needed');
  await ensureLibvirtd();
  await ensureGuestImage();
  const otherDomains = (await virsh(['list', '--name'])).split('\n').map((s) => s.trim()).filter(Boolean);
  const booted: Guest[] = [];
  const boots: GuestBoot[] = [];
  let stopReason = `reached the maximum asked for (${opts.max})`;
  for (let i = 0; i < opts.max; i++) {
    const name = `vmpbench-${process.pid}-${i}`;
    const t0 = Date.now();
    let guest: Guest | undefined;
    try {
      await virsh(['destroy', name]).catch(() => undefined);
      await virsh(['undefine', name]).catch(() => undefined);
      guest = await createGuest(name, { memoryMiB: opts.memoryMiB, ip: `10.78.0.${i + 2}/24` });
      registry.add(guest);
      await startGuest(name);
      const deadline = Date.now() + opts.bootTimeoutMs;
      while (!consoleShowsUp(guest.consoleLog)) {
        if (Date.now() > deadline) throw new Error(`no "vmpulse-guest: up" on the console within ${opts.bootTimeoutMs / 1000} s`);
        await sleep(250);
      }
      booted.push(guest);
      const load = loadavg1();
      boots.push({ name, memoryMiB: opts.memoryMiB, bootS: round((Date.now() - t0) / 1000, 1), loadavg1After: round(load, 2) });
      opts.log(`guests: ${name} up in ${round((Date.now() - t0) / 1000, 1)} s, load ${round(load, 2)}`);
      if (load > opts.maxLoad) {
        stopReason = `host 1-min load ${round(load, 2)} passed ${opts.maxLoad} (${os.cpus().length} cores)`;
        break;
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      boots.push({ name, memoryMiB: opts.memoryMiB, bootS: null, loadavg1After: round(loadavg1(), 2), error: msg });
      opts.log(`guests: ${name} failed: ${msg}`);
      stopReason = `guest ${i + 1} did not boot: ${msg}`;
      if (guest) {
        await guest.cleanup().catch(() => undefined);
        registry.delete(guest);
      }
      break;
    }
  }
  return { booted, boots, stopReason, otherDomains };
}

export interface BareRun {
  wallMs: number;
  cpuMs: number;
  bulkWallMs: number;
  perCallWallMs: number;
  domains: number;
  perCallDomains: number;
}

export function bareLibvirt(uri: string, iterations: number): Promise<{ runs: BareRun[]; rssMiB?: number }> {
  return runJsonChild('libvirt-bare.ts', [uri, String(iterations)], 5 * 60_000);
}
