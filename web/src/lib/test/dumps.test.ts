import { describe, expect, it } from 'vitest';
import { formatDuration, formatRatio, progressRows, progressText, type DumpJob } from '../dumps';

const job = (id: string, status: DumpJob['status'], extra: Partial<DumpJob> = {}): DumpJob =>
  ({
    id,
    vmId: '1',
    vmName: 'web-01',
    host: 'h1',
    status,
    createdAt: `2026-11-30T05:00:0${id}.000Z`,
    durationSec: null,
    progress: { phase: 'dumping', percent: 42.7, rawBytes: 40 * 1024 * 1024, gzipBytes: 10 * 1024 * 1024, mbPerSec: 35.12, etaSeconds: 65, compressionRatio: 4 },
    ...extra,
  }) as DumpJob;

describe('dump progress for people', () => {
  it('shows percent, MB/s, ETA, ratio and bytes read while running', () => {
    expect(progressText(job('1', 'running'))).toBe('42 % · 35.1 MB/s · ETA 1 m 05 s · ratio 4.0× · 40.0 MB read');
  });
  it('shows the duration once ended, and a queued dump as waiting', () => {
    expect(progressText(job('1', 'completed', { durationSec: 3.4, progress: { ...job('1', 'x' as never).progress, percent: 100 } }))).toBe('100 % · took 3 s · ratio 4.0× · 40.0 MB read');
    expect(progressText(job('1', 'queued'))).toBe('queued, waiting for a slot');
  });
  it('formats durations and ratios, missing values as such', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(3725)).toBe('1 h 02 m');
    expect(formatRatio(undefined)).toBe('N/A');
    expect(formatRatio(3.449)).toBe('3.4×');
  });
  it('lists every active job first, then only the newest finished ones', () => {
    const jobs = Object.fromEntries(
      [job('1', 'completed'), job('2', 'running'), job('3', 'failed'), job('4', 'completed'), job('5', 'queued'), job('6', 'completed', { vmId: '2' })].map((j) => [j.id, j]),
    );
    expect(progressRows(jobs, undefined, 2).map((j) => j.id)).toEqual(['5', '2', '6', '4']);
    expect(progressRows(jobs, '1', 1).map((j) => j.id)).toEqual(['5', '2', '4']);
  });
});
