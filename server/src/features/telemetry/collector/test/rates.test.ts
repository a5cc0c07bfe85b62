import { describe, expect, it } from 'vitest';
import { derive } from '../rates.js';

const sample = (ts: number, metrics: Record<string, bigint>, cpus = 2) => ({ ts, metrics, cpus, memoryMax: 4_194_304n });

describe('derive', () => {
  it('gives per-second rates, the arctangent angle in degrees, and CPU % of the vCPUs', () => {
    const base = 2n ** 62n; // BigInt totals beyond 2^53; the deltas are small and exact
    const a = sample(1000, { cputime: base, timeusr: 0n, timesys: 0n, net_rxbytes: 1000n });
    const b = sample(3000, { cputime: base + 1_000_000_000n, timeusr: 600_000_000n, timesys: 400_000_000n, net_rxbytes: 3000n });
    const d = derive(a, b);
    expect(d.rates.cputime).toBe(500_000_000); // ns of CPU per second
    expect(d.rates.net_rxbytes).toBe(1000);
    expect(d.angles.net_rxbytes).toBeCloseTo((Math.atan(1000) * 180) / Math.PI, 3);
    expect(d.cpuPct.total).toBe(25); // 0.5 s of CPU per second over 2 vCPUs
    expect(d.cpuPct.user).toBe(15);
    expect(d.cpuPct.system).toBe(10);
  });

  it('starts a new series when a counter goes backwards (VM restarted): no negative rate', () => {
    const a = sample(1000, { cputime: 9_000_000_000n, net_rxbytes: 5000n });
    const b = sample(2000, { cputime: 1_000_000n, net_rxbytes: 6000n });
    const d = derive(a, b);
    expect(d.rates.cputime).toBeUndefined();
    expect(d.cpuPct.total).toBeNull();
    expect(d.rates.net_rxbytes).toBe(1000); // other counters that did not reset keep their rate
  });

  it('has no rates for the first sample and no rate for a metric missing on either side', () => {
    expect(derive(undefined, sample(1000, { cputime: 5n })).rates).toEqual({});
    expect(derive(sample(0, { cputime: 1n }), sample(1000, { net_rxbytes: 5n })).rates).toEqual({});
  });

  it('memory % uses the guest view when the balloon reports it, else host RSS of actual', () => {
    expect(derive(undefined, sample(0, { memavailable: 1000n, memusable: 250n })).memPct).toBe(75);
    expect(derive(undefined, sample(0, { memactual: 2000n, memrss: 500n })).memPct).toBe(25);
    expect(derive(undefined, sample(0, {})).memPct).toBeNull();
  });
});
