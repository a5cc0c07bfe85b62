// Throughput, ETA and live-migration convergence on known series, checked against figures worked
// out by hand (not by the code under test).
import { describe, expect, it } from 'vitest';
import { convergence, type LiveSample, percent, SampleWindow, throughput, toMbps } from '../progress.js';
import { enterStep, finishSteps, initialSteps } from '../steps.js';

const MiB = 1024 * 1024;

describe('throughput and ETA', () => {
  it('a steady 10 MiB/s series: 10 MiB/s, and ETA = remaining / 10 MiB/s', () => {
    const samples = Array.from({ length: 11 }, (_, i) => ({ t: 1_000_000 + i * 1000, bytes: i * 10 * MiB }));
    const r = throughput(samples, 1000 * MiB, 30_000);
    expect(r.bytesPerSec).toBe(10 * MiB);
    // 100 MiB done, 900 MiB left at 10 MiB/s → 90 s
    expect(r.etaSeconds).toBe(90);
    expect(toMbps(r.bytesPerSec)).toBe(83.89); // 10 MiB/s × 8 = 83.886 Mbit/s
  });

  it('smooths over the window only: a burst long ago does not count', () => {
    // 0–10 s at 100 MiB/s, then 60 s at 1 MiB/s; a 30 s window sees only the slow part
    const samples = [];
    for (let i = 0; i <= 10; i++) samples.push({ t: i * 1000, bytes: i * 100 * MiB });
    for (let i = 1; i <= 60; i++) samples.push({ t: 10_000 + i * 1000, bytes: 1000 * MiB + i * MiB });
    const r = throughput(samples, 2000 * MiB, 30_000);
    expect(r.bytesPerSec).toBe(MiB);
    expect(r.etaSeconds).toBe(940); // 2000 − 1060 = 940 MiB at 1 MiB/s
  });

  it('uneven reports: the rate is bytes across the window over its duration, not an average of steps', () => {
    const samples = [
      { t: 0, bytes: 0 },
      { t: 1000, bytes: 50 * MiB },
      { t: 4000, bytes: 80 * MiB },
    ];
    expect(throughput(samples, 100 * MiB, 30_000)).toEqual({ bytesPerSec: 20 * MiB, etaSeconds: 1 });
  });

  it('no rate yet: ETA unknown; nothing left: ETA 0; stalled: ETA unknown', () => {
    expect(throughput([{ t: 0, bytes: 5 }], 10, 30_000)).toEqual({ bytesPerSec: 0, etaSeconds: null });
    expect(throughput([{ t: 0, bytes: 5 }, { t: 1000, bytes: 10 }], 10, 30_000).etaSeconds).toBe(0);
    expect(throughput([{ t: 0, bytes: 5 }, { t: 1000, bytes: 5 }], 10, 30_000)).toEqual({ bytesPerSec: 0, etaSeconds: null });
  });

  it('percent is a float of done / total', () => {
    // the seed's own example: 19058917376 of 38654705664 bytes
    expect(percent(19058917376, 38654705664)).toBeCloseTo(49.30555555555556, 12);
    expect(percent(0, 0)).toBe(0);
  });

  it('the sample window keeps the window plus one older sample, bounded', () => {
    const w = new SampleWindow<{ t: number }>(10_000, 100);
    for (let i = 0; i <= 1000; i++) w.push({ t: i * 1000 });
    expect(w.list().length).toBeLessThanOrEqual(12);
    expect(w.list()[0]!.t).toBeLessThanOrEqual(990_000);
  });
});

describe('live migration convergence', () => {
  const series = (f: (i: number) => Partial<LiveSample>, n: number): LiveSample[] =>
    Array.from({ length: n }, (_, i) => ({ t: i * 1000, remaining: 0, processed: 0, dirtyRateBps: 0, transferRateBps: 0, ...f(i) }));

  it('remaining shrinking and dirty rate below transfer rate: converging', () => {
    const s = series((i) => ({ remaining: 1000 * MiB - i * 30 * MiB, processed: i * 40 * MiB, dirtyRateBps: 10 * MiB, transferRateBps: 40 * MiB }), 20);
    const c = convergence(s, 10_000, 30_000)!;
    expect(c).toMatchObject({ converging: true, stalledSince: null, remainingBytes: 1000 * MiB - 19 * 30 * MiB });
  });

  it('the guest dirties faster than it is sent: not converging (while processed still grows)', () => {
    const s = series((i) => ({ remaining: 500 * MiB + (i % 3) * MiB, processed: i * 40 * MiB, dirtyRateBps: 50 * MiB, transferRateBps: 40 * MiB }), 20);
    expect(convergence(s, 10_000, 30_000)!.converging).toBe(false);
  });

  it('remaining does not shrink across the window: not converging even with a lower dirty rate', () => {
    const s = series((i) => ({ remaining: 500 * MiB + i * MiB, processed: i * 40 * MiB, dirtyRateBps: 30 * MiB, transferRateBps: 40 * MiB }), 20);
    expect(convergence(s, 10_000, 30_000)!.converging).toBe(false);
  });

  it('processed bytes stuck for the stall time: stalled since the last move', () => {
    const s = series((i) => ({ remaining: 100 * MiB, processed: Math.min(i, 5) * MiB }), 60);
    expect(convergence(s, 10_000, 30_000)!.stalledSince).toBe(5000);
    expect(convergence(s.slice(0, 30), 10_000, 30_000)!.stalledSince).toBeNull(); // 24 s: not yet
  });
});

describe('job steps', () => {
  const t0 = new Date(0);
  const t1 = new Date(1000);
  it('move forward only; finishing completes or fails the running one and skips the rest', () => {
    const s0 = initialSteps(['Initialize', 'Disk transfer', 'Cutover', 'Finalize'], t0);
    expect(s0.map((s) => s.state)).toEqual(['running', 'pending', 'pending', 'pending']);
    const s1 = enterStep(s0, 'cutover', t1);
    expect(s1.map((s) => s.state)).toEqual(['completed', 'completed', 'running', 'pending']);
    expect(enterStep(s1, 'Disk transfer', t1).map((s) => s.state)).toEqual(s1.map((s) => s.state));
    expect(finishSteps(s1, false, t1).map((s) => s.state)).toEqual(['completed', 'completed', 'failed', 'skipped']);
    expect(finishSteps(s1, true, t1).map((s) => s.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
  });
});
