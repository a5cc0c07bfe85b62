// The collector's schedule: hosts' ticks spread over the interval in phases (small hosts share one), each keeping its phase.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCollectorLoop, type CollectedHost, type CollectedVm } from '../loop.js';
import { PHASE_VMS, phaseOffsetsMs } from '../stagger.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('collector schedule', () => {
  it('gives hosts of PHASE_VMS or more a phase each, spread evenly over one interval', () => {
    expect(phaseOffsetsMs([1000, 1000, 1000, 1000], 1000)).toEqual([0, 250, 500, 750]);
    expect(phaseOffsetsMs([PHASE_VMS, PHASE_VMS, PHASE_VMS], 1000)).toEqual([0, 333, 666]);
    expect(phaseOffsetsMs([1000], 1000)).toEqual([0]);
    expect(phaseOffsetsMs([], 1000)).toEqual([]);
  });

  it('lets small hosts share a phase of at most PHASE_VMS VMs', () => {
    // twelve 1-VM hosts: one phase
    expect(phaseOffsetsMs(Array(12).fill(1), 1000)).toEqual(Array(12).fill(0));
    // 100 hosts of PHASE_VMS / 2 VMs: 50 phases of 2 hosts, 20 ms apart
    const offsets = phaseOffsetsMs(Array(100).fill(PHASE_VMS / 2), 1000);
    expect(new Set(offsets).size).toBe(50);
    expect(offsets.slice(0, 5)).toEqual([0, 0, 20, 20, 40]);
    // a big host alone, then the small ones after it together; hosts not listed yet (0 VMs) join a phase
    expect(phaseOffsetsMs([1000, 1, 1, 0, 1], 1000)).toEqual([0, 500, 500, 500, 500]);
    expect(phaseOffsetsMs([PHASE_VMS - 1, 1, 1], 1000)).toEqual([0, 0, 500]);
    expect(phaseOffsetsMs([1, 1000, 1], 1000)).toEqual([0, 333, 666]);
  });

  /**
   * Four disconnected hosts of `vmsPerHost` VMs each, ticked for `ms`; when each host's ingest ran.
   * `busyMs(hostId)`: how long each of that host's ingests takes.
   */
  async function tickTimes(vmsPerHost: number, ms = 2999, busyMs: (hostId: number) => number = () => 0) {
    vi.useFakeTimers({ now: 0 });
    const hosts: CollectedHost[] = [1, 2, 3, 4].map((id) => ({ id, name: `h${id}`, conn: null }));
    const vmsOf = (hostId: number): CollectedVm[] =>
      Array.from({ length: vmsPerHost }, (_, i) => ({ id: hostId * 1000 + i, hostId, uuid: `u${hostId}-${i}`, state: 'running', cpuCount: 1, present: true }));
    const ticks: { hostId: number; at: number }[] = [];
    const loop = createCollectorLoop({
      hosts: { list: () => hosts, lost: () => {} },
      vmsOf,
      ingest: async (readings) => {
        const hostId = readings[0]!.vm.hostId;
        ticks.push({ hostId, at: Date.now() });
        if (busyMs(hostId)) await new Promise((resolve) => setTimeout(resolve, busyMs(hostId)));
        return readings.map(() => ({ stale: true }));
      },
      log: pino({ level: 'silent' }),
      opts: { intervalMs: 1000, timeoutMs: 500, deviceCacheTtlMs: 60_000 },
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(ms);
    const stopped = loop.stop();
    await vi.advanceTimersByTimeAsync(Math.max(...hosts.map((h) => busyMs(h.id)))); // ticks in flight end
    await stopped;
    return { hosts, ticks };
  }

  it('ticks each big host at its own phase, tick after tick, instead of all at once', async () => {
    const { hosts, ticks } = await tickTimes(PHASE_VMS);
    expect(ticks.filter((t) => t.at < 1000)).toEqual([
      { hostId: 1, at: 0 },
      { hostId: 2, at: 250 },
      { hostId: 3, at: 500 },
      { hostId: 4, at: 750 },
    ]);
    // the phase holds: every host ticks once a second at its own offset
    for (const h of hosts) expect(ticks.filter((t) => t.hostId === h.id).map((t) => t.at % 1000)).toEqual([0, 0, 0].map(() => (h.id - 1) * 250));
  });

  it('ticks small hosts together, once a second', async () => {
    const { ticks } = await tickTimes(2);
    expect(ticks.map((t) => t.at)).toEqual([0, 0, 0, 0, 1000, 1000, 1000, 1000, 2000, 2000, 2000, 2000]);
  });

  it('lets a host whose tick outlasts the interval skip slots, on the same grid, without holding up its phase', async () => {
    // host 2's ticks take 1.5 s: it is busy at the slots of 1 s and 3 s, and ticks again at 2 s and 4 s
    const { ticks } = await tickTimes(2, 4999, (hostId) => (hostId === 2 ? 1500 : 0));
    const at = (hostId: number) => ticks.filter((t) => t.hostId === hostId).map((t) => t.at);
    expect(at(2)).toEqual([0, 2000, 4000]);
    for (const hostId of [1, 3, 4]) expect(at(hostId)).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it("shares a phase's CPU among its hosts by VMs read, instead of counting it once per host", async () => {
    vi.useFakeTimers({ now: 0 });
    // four disconnected hosts of 1, 2, 3 and 4 VMs, one phase; each ingest burns the same CPU
    const hosts: CollectedHost[] = [1, 2, 3, 4].map((id) => ({ id, name: `h${id}`, conn: null }));
    const vmsOf = (hostId: number): CollectedVm[] =>
      Array.from({ length: hostId }, (_, i) => ({ id: hostId * 1000 + i, hostId, uuid: `u${hostId}-${i}`, state: 'running', cpuCount: 1, present: true }));
    let sink = 0;
    const loop = createCollectorLoop({
      hosts: { list: () => hosts, lost: () => {} },
      vmsOf,
      ingest: async (readings) => {
        for (let i = 0; i < 3e6; i++) sink += Math.sqrt(i);
        return readings.map(() => ({ stale: true }));
      },
      log: pino({ level: 'silent' }),
      opts: { intervalMs: 1000, timeoutMs: 500, deviceCacheTtlMs: 60_000 },
    });
    const shares = new Map<number, number | null>();
    loop.onTick((s) => shares.set(s.hostId, s.lastTickCpuMs));
    const c0 = process.cpuUsage();
    loop.start();
    await vi.advanceTimersByTimeAsync(10); // the first slot only
    const c = process.cpuUsage(c0);
    const spentMs = (c.user + c.system) / 1000;
    await loop.stop();
    expect(sink).toBeGreaterThan(0);
    const ms = [1, 2, 3, 4].map((id) => shares.get(id)!);
    const sum = ms.reduce((a, b) => a + b, 0);
    // together no more than the process spent (a window per host counted the others' ticks: ~2.5x)
    expect(sum).toBeLessThanOrEqual(spentMs + 0.05);
    expect(sum).toBeGreaterThan(spentMs / 2);
    for (const id of [2, 3, 4]) expect(ms[id - 1]! / ms[0]!).toBeCloseTo(id, 1);
  });
});
