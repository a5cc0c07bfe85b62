import { describe, expect, it } from 'vitest';
import { jobPercent, jobProgressText, liveFlag, sortContexts, type ContextSummary, type Job } from '../migrations';

const job = (extra: Partial<Job> = {}): Job =>
  ({
    id: 'j1',
    status: 'replicating',
    progressPercent: 42.25,
    bytesTransferred: String(3 * 1024 ** 3),
    totalBytes: String(12 * 1024 ** 3),
    transferSpeedBps: String(256 * 1024 ** 2),
    throughputMbps: 2147.5,
    etaSeconds: 36,
    live: null,
    ...extra,
  }) as Job;
const live = (l: Partial<NonNullable<Job['live']>>): Job =>
  job({ live: { converging: true, remainingBytes: String(512 * 1024 ** 2), dirtyRateBps: 8 * 1024 ** 2, transferRateBps: 64 * 1024 ** 2, iteration: 3, expectedDowntimeMs: 120, stalledSince: null, ...l } as Job['live'] });

describe('replication job progress for people', () => {
  it('shows percent, bytes, throughput and ETA of a running job', () => {
    expect(jobProgressText(job())).toBe('42.3 % · 3.0 GB of 12.0 GB · 256.0 MB/s (2147.5 Mbit/s) · ETA 36 s');
    expect(jobProgressText(job({ status: 'completed', progressPercent: 100 }))).toBe('100.0 % · 3.0 GB of 12.0 GB');
  });
  it('shows a live migration as remaining bytes and dirty vs sent, never a percent', () => {
    expect(jobPercent(live({}))).toBeNull();
    expect(jobProgressText(live({}))).toBe('512.0 MB remaining · dirtying 8.0 MB/s vs sending 64.0 MB/s · iteration 3 · expected downtime 120 ms');
    expect(liveFlag(live({}))).toBeNull();
    expect(liveFlag(live({ converging: false }))).toBe('not converging');
    expect(liveFlag(live({ converging: false, stalledSince: '2026-11-30T10:02:03.000Z' }))).toMatch(/^stalled since \d\d:\d\d:\d\d$/);
  });
  it('lists contexts with a running job first, then the most recently changed', () => {
    const ctx = (vmName: string, updatedAt: string, status: string | null): ContextSummary => ({ vmName, updatedAt, contextId: vmName, currentJob: status ? job({ status }) : null }) as ContextSummary;
    const sorted = sortContexts([ctx('a', '2026-11-30T10:00:00Z', null), ctx('b', '2026-11-30T09:00:00Z', 'replicating'), ctx('c', '2026-11-30T11:00:00Z', 'completed')]);
    expect(sorted.map((c) => c.vmName)).toEqual(['b', 'c', 'a']);
  });
});
