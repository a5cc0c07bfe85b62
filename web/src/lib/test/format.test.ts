import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatKiB, formatNsAsSeconds, formatPct, formatRate } from '../format';
import { SEED_METRICS, formatMetric } from '../metrics';

describe('formatBytes', () => {
  it('uses B, KB, MB, GB, TB on a 1024 base', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5242880)).toBe('5.0 MB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GB');
    expect(formatBytes(2.5 * 1024 ** 4)).toBe('2.5 TB');
  });
  it('stays in TB past it, and reads decimal strings (BigInt scalar)', () => {
    expect(formatBytes(2048 * 1024 ** 4)).toBe('2048.0 TB');
    expect(formatBytes('10485760')).toBe('10.0 MB');
  });
  it('shows N/A for a missing value', () => {
    expect(formatBytes(null)).toBe('N/A');
    expect(formatBytes(undefined)).toBe('N/A');
    expect(formatBytes('')).toBe('N/A');
    expect(formatBytes(Number.NaN)).toBe('N/A');
    expect(formatRate(null)).toBe('N/A');
  });
  it('formats KiB values and rates', () => {
    expect(formatKiB(4194304)).toBe('4.0 GB');
    expect(formatKiB(512000)).toBe('500.0 MB');
    expect(formatRate(1536)).toBe('1.5 KB/s');
  });
});

describe('formatNsAsSeconds', () => {
  it('divides by 1e9', () => {
    expect(formatNsAsSeconds(1234567890)).toBe('1.23 s');
    expect(formatNsAsSeconds(1000000000)).toBe('1.00 s');
    expect(formatNsAsSeconds(0)).toBe('0.00 s');
    expect(formatNsAsSeconds(5_000_000, 3)).toBe('0.005 s');
  });
  it('stays exact for 64-bit counters past 2^53 given as strings', () => {
    expect(formatNsAsSeconds('18446744073709551615')).toBe('18,446,744,073.71 s');
    expect(formatNsAsSeconds('9007199254740993')).toBe('9,007,199.25 s');
  });
  it('shows N/A for a missing or malformed value', () => {
    expect(formatNsAsSeconds(null)).toBe('N/A');
    expect(formatNsAsSeconds(undefined)).toBe('N/A');
    expect(formatNsAsSeconds('abc')).toBe('N/A');
  });
});

describe('percent and counts', () => {
  it('formats', () => {
    expect(formatPct(12.345)).toBe('12.3 %');
    expect(formatPct(null)).toBe('N/A');
    expect(formatCount('17953211268481')).toBe('17,953,211,268,481');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(null)).toBe('N/A');
  });
});

describe('seed metrics', () => {
  it('lists the seed fields with their odd spellings and units', () => {
    const names = SEED_METRICS.map((m) => m.name);
    expect(names).toContain('disk_rd_req');
    expect(names).toContain('disk_wr_reqs');
    expect(names).toHaveLength(27); // the seed's 26 metrics plus `state`
    expect(SEED_METRICS.find((m) => m.name === 'timeusr')!.unit).toBe('ns');
    expect(SEED_METRICS.find((m) => m.name === 'memrss')!.unit).toBe('KB');
  });
  it('formats each by its unit and shows N/A when missing', () => {
    expect(formatMetric('ns', '1000000000')).toBe('1.00 s');
    expect(formatMetric('KB', '4194304')).toBe('4.0 GB');
    expect(formatMetric('bytes', '5242880')).toBe('5.0 MB');
    expect(formatMetric('count', '5000')).toBe('5,000');
    expect(formatMetric('pages', null)).toBe('N/A');
    expect(formatMetric('state', undefined)).toBe('N/A');
  });
});
