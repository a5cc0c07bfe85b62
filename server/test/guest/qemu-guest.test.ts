// Boots a real QEMU/TCG guest under the system libvirtd and checks that every
// stats group vmpulse reads (cpu, block, interface, balloon) has live counters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGuest,
  domstats,
  ensureGuestImage,
  ensureLibvirtd,
  startGuest,
  virsh,
  type Guest,
} from './qemu-guest.js';

const NAME = 'vmpulse-guest-test';
const timings: Record<string, string> = {};

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[label] = `${((performance.now() - t0) / 1000).toFixed(2)}s`;
  }
}

const num = (s: Map<string, string>, k: string): bigint => BigInt(s.get(k) ?? '0');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('QEMU test guest', () => {
  let guest: Guest | undefined;

  beforeAll(async () => {
    await timed('image build', ensureGuestImage);
    await timed('libvirtd start', ensureLibvirtd);
    // A previous run that was killed may have left its domain behind.
    await virsh(['destroy', NAME]).catch(() => undefined);
    await virsh(['undefine', NAME]).catch(() => undefined);
  }, 30 * 60_000);

  afterAll(async () => {
    await guest?.cleanup();
    console.log('qemu-guest timings:', timings);
    const left = await virsh(['list', '--all', '--name']).catch(() => '');
    expect(left.split('\n')).not.toContain(NAME);
  });

  it('boots and every stats group moves', async () => {
    guest = await timed('define', () => createGuest(NAME));
    await timed('start', () => startGuest(NAME));

    // Boot-to-activity: until the guest's init loop has written to the disk and sent on eth0.
    const t0 = performance.now();
    let first = await domstats(NAME);
    while (num(first, 'block.0.wr.bytes') === 0n || num(first, 'net.0.tx.bytes') === 0n) {
      expect(performance.now() - t0, 'guest never became active').toBeLessThan(20_000);
      await sleep(250);
      first = await domstats(NAME);
    }
    timings['boot-to-activity'] = `${((performance.now() - t0) / 1000).toFixed(2)}s`;

    await sleep(5_000);
    const second = await domstats(NAME);
    const rising = ['cpu.time', 'block.0.rd.bytes', 'block.0.wr.bytes', 'net.0.tx.bytes'];
    const deltas = Object.fromEntries(rising.map((k) => [k, (num(second, k) - num(first, k)).toString()]));
    console.log('qemu-guest deltas over 5 s:', deltas);
    for (const k of rising) expect(num(second, k), k).toBeGreaterThan(num(first, k));

    expect(second.get('net.0.name')).toBe(guest.tapDev);
    for (const k of ['balloon.rss', 'balloon.available', 'balloon.usable']) {
      expect(num(second, k), k).toBeGreaterThan(0n);
    }
  }, 60_000);
});
