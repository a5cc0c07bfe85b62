import { describe, expect, it } from 'vitest';
import { derivationOf, derive, derivedFrom } from '../rates.js';

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, number>;

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
    expect(json(derive(undefined, sample(1000, { cputime: 5n })).rates)).toEqual({});
    expect(json(derive(sample(0, { cputime: 1n }), sample(1000, { net_rxbytes: 5n })).rates)).toEqual({});
  });

  it('reads like a plain record, by name and in JSON, with angles from the unrounded rate', () => {
    // 1/3 byte/s: the rate rounds to 0.333; its angle is atan(1/3), not atan(0.333)
    const a = sample(0, { net_rxbytes: 0n, net_txbytes: 10n, cputime: 0n });
    const b = sample(3000, { net_rxbytes: 1n, net_txbytes: 9n, cputime: 3_000_000_000n });
    const d = derive(a, b);
    const m = 'net_rxbytes' as const;
    expect(d.rates[m]).toBe(0.333);
    expect(d.angles[m]).toBe(Math.round(((Math.atan(1 / 3) * 180) / Math.PI) * 10_000) / 10_000);
    expect(d.angles[m]).not.toBe(Math.round(((Math.atan(0.333) * 180) / Math.PI) * 10_000) / 10_000);
    // net_txbytes went backwards: no rate, no angle, no key
    expect(json(d.rates)).toEqual({ net_rxbytes: 0.333, cputime: 1e9 });
    expect(json(d.angles)).toEqual({ net_rxbytes: d.angles.net_rxbytes, cputime: 90 });
    expect(Object.keys(json(d.rates)).sort()).toEqual(['cputime', 'net_rxbytes']);
  });

  it('keeps each VM its own rates across many derivations (shared storage)', () => {
    const all = Array.from({ length: 300 }, (_, i) => derive(sample(0, { cputime: 0n }), sample(1000, { cputime: BigInt(i) * 1000n })));
    expect(all.map((d) => d.rates.cputime)).toEqual(all.map((_, i) => i * 1000));
  });

  it('says whether a snapshot holds, untouched, what it made of the very previous snapshot', () => {
    const z = sample(0, { cputime: 0n });
    const a = { ...sample(1000, { cputime: 1n }), ...derive(z, sample(1000, { cputime: 1n })) };
    const held = { ...a, derivation: derivationOf(a) }; // what a store keeps of `a`
    const b = sample(2000, { cputime: 5n, memrss: 10n });
    const s = { ...b, ...derive(a, b) };
    expect(derivedFrom(s, held)).toBe(true);
    expect(derivedFrom(s, { ...held, ts: 1001 })).toBe(false);
    expect(derivedFrom(s, { ...held, derivation: derivationOf(s) })).toBe(false); // another snapshot
    expect(derivedFrom(s, { ...held, derivation: undefined })).toBe(false); // a store that does not know
    expect(derivedFrom({ ...b, ...derive(undefined, b) }, held)).toBe(false);
    const replicaCopy = { ...a, rates: json(a.rates) }; // `a` as another replica sends it, over JSON
    expect(derivedFrom({ ...b, ...derive(replicaCopy, b) }, held)).toBe(false);
    // anything changed after deriving: a value, the counters, the vCPUs, the percentages
    expect(derivedFrom({ ...s, memPct: Number.NaN }, held)).toBe(false);
    expect(derivedFrom({ ...s, cpuPct: { ...s.cpuPct } }, held)).toBe(false);
    expect(derivedFrom({ ...s, cpus: 4 }, held)).toBe(false);
    expect(derivedFrom({ ...s, ts: 2001 }, held)).toBe(false);
    expect(derivedFrom({ ...s, metrics: { ...s.metrics } }, held)).toBe(false);
    expect(derivedFrom({ ...s, rates: json(s.rates) }, held)).toBe(false); // a plain record (a replica's, over JSON)
    expect(Number.isNaN(derivationOf({ rates: json(s.rates) }))).toBe(true);
  });

  it('memory % uses the guest view when the balloon reports it, else host RSS of actual', () => {
    expect(derive(undefined, sample(0, { memavailable: 1000n, memusable: 250n })).memPct).toBe(75);
    expect(derive(undefined, sample(0, { memactual: 2000n, memrss: 500n })).memPct).toBe(25);
    expect(derive(undefined, sample(0, {})).memPct).toBeNull();
  });
});
