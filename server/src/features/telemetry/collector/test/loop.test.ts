// The collector's schedule: hosts' ticks spread over the interval, each keeping its phase.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCollectorLoop, type CollectedHost, type CollectedVm } from '../loop.js';
import { staggerMs } from '../stagger.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('collector schedule', () => {
  it('spreads n hosts evenly over one interval', () => {
    expect([0, 1, 2, 3].map((i) => staggerMs(i, 4, 1000))).toEqual([0, 250, 500, 750]);
    expect(staggerMs(0, 1, 1000)).toBe(0);
    expect([0, 1, 2].map((i) => staggerMs(i, 3, 1000))).toEqual([0, 333, 666]);
  });

  it('ticks each host at its own phase, tick after tick, instead of all at once', async () => {
    vi.useFakeTimers({ now: 0 });
    const hosts: CollectedHost[] = [1, 2, 3, 4].map((id) => ({ id, name: `h${id}`, conn: null }));
    const vm = (hostId: number): CollectedVm => ({ id: hostId * 10, hostId, uuid: `u${hostId}`, state: 'running', cpuCount: 1, present: true });
    const ticks: { hostId: number; at: number }[] = [];
    const loop = createCollectorLoop({
      hosts: { list: () => hosts, lost: () => {} },
      vmsOf: (hostId) => [vm(hostId)],
      ingest: async (readings) => {
        ticks.push({ hostId: readings[0]!.vm.hostId, at: Date.now() });
        return readings.map(() => ({ stale: true }));
      },
      log: pino({ level: 'silent' }),
      opts: { intervalMs: 1000, timeoutMs: 500, deviceCacheTtlMs: 60_000 },
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(2999);
    await loop.stop();
    expect(ticks.filter((t) => t.at < 1000)).toEqual([
      { hostId: 1, at: 0 },
      { hostId: 2, at: 250 },
      { hostId: 3, at: 500 },
      { hostId: 4, at: 750 },
    ]);
    // the phase holds: every host ticks once a second at its own offset
    for (const h of hosts) expect(ticks.filter((t) => t.hostId === h.id).map((t) => t.at % 1000)).toEqual([0, 0, 0].map(() => (h.id - 1) * 250));
  });
});
