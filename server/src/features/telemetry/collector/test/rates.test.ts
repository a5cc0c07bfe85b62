import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../../../domain/metrics.js';
import { MetricRecord } from '../metric-record.js';
import { derivationOf, derive, derivedFrom, memPercent } from '../rates.js';

/** a seeded generator (mulberry32): the same cases on every run */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

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

  it('memory % is the same from the collector\'s records (doubles) and from plain BigInts, past 2^53 too', () => {
    // the seed's formula in BigInts, as the oracle: (available − usable) / available, else rss / (actual or max)
    const oracle = (m: Record<string, bigint | undefined>, max: bigint) => {
      if (m.memavailable !== undefined && m.memusable !== undefined && m.memavailable > 0n) return Math.round((Number(m.memavailable - m.memusable) / Number(m.memavailable)) * 100 * 100) / 100;
      const total = m.memactual ?? max;
      return m.memrss !== undefined && total > 0n ? Math.round(Math.min(100, (Number(m.memrss) / Number(total)) * 100) * 100) / 100 : null;
    };
    const names = ['memactual', 'memrss', 'memavailable', 'memusable'] as const;
    const r = random(7);
    const pick = () => [undefined, 0n, BigInt(r() % 5_000_000), 2n ** 53n + BigInt(r() % 1000), 2n ** 52n + BigInt(r() % 1000)][r() % 5];
    for (let i = 0; i < 2000; i++) {
      const plain: Record<string, bigint | undefined> = Object.fromEntries(names.map((n) => [n, pick()]));
      const values = METRIC_NAMES.map((n) => plain[n]);
      const record = new MetricRecord(values);
      const defined = Object.fromEntries(Object.entries(plain).filter(([, v]) => v !== undefined)) as Record<string, bigint>;
      const want = oracle(plain, 4_194_304n);
      expect(memPercent({ ...sample(0, defined), metrics: record }), JSON.stringify(plain, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))).toBe(want);
      expect(memPercent(sample(0, defined))).toBe(want);
    }
  });
});
