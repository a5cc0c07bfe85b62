// Round trips of the block encoding, property-style over random series: what goes in comes out,
// bit for bit. The oracle is the input itself, and for integer columns' bytes the format written
// plainly in BigInt (referenceIntColumn).
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../../domain/snapshot.js';
import { OpenBlock, decodeBlock, readBlockFields, type Sample } from '../postgres-block.js';
import { ByteReader, ByteWriter, readFloatColumn, readIntColumn, writeFloatColumn, writeIntColumn, writeIntColumnStrided } from '../postgres-codec.js';
import { DERIVED_FIELDS, DERIVED_FROM_SAMPLES, ROLLUP_LAST, ROLLUP_STATS, derivedOf, reproduces } from '../postgres-columns.js';
import { MINUTE_MS, floorTo } from '../../../../lib/time.js';
import { derive } from '../../collector/rates.js';
import { decodeEntries, encodeEntries, type Entry } from '../postgres-entries.js';
import { TWO_53, random, randomFleet, snap } from './postgres-fixtures.js';

const U64_MAX = 2n ** 64n - 1n;

function intRoundTrip(values: (bigint | null)[], order: 1 | 2) {
  const w = new ByteWriter();
  writeIntColumn(w, values, order);
  const bytes = w.finish();
  const r = new ByteReader(bytes);
  expect(readIntColumn(r, values.length, order)).toEqual(values);
  expect(r.pos).toBe(bytes.length);
  return bytes.length;
}

function floatRoundTrip(values: (number | null)[]) {
  const w = new ByteWriter();
  writeFloatColumn(w, values);
  const bytes = w.finish();
  const back = readFloatColumn(new ByteReader(bytes), values.length);
  back.forEach((v, i) => {
    expect(Object.is(v, values[i]) || v === values[i]).toBe(true);
  });
  return bytes.length;
}

describe('integer columns', () => {
  it('round-trip random series of every shape: steady, noisy, resets, gaps, 2^53 and 2^64 − 1', () => {
    const r = random(7);
    const bigRandom = () => (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32)); // 0 … 2^64 − 1
    for (let run = 0; run < 2000; run++) {
      const n = 1 + r.int(130);
      const values: (bigint | null)[] = [];
      let v = [0n, TWO_53 - 3n, bigRandom(), U64_MAX - 1000n][r.int(4)]!;
      const pace = BigInt(r.int(1e6)) * [1n, 1000n, 10_000_000n][r.int(3)]!;
      const nulls = [0, 0.05, 0.5, 1][r.int(4)]!;
      for (let i = 0; i < n; i++) {
        if (r.chance(0.03)) v = BigInt(r.int(100)); // a counter reset: from anything to near 0
        else if (r.chance(0.01)) v = bigRandom(); // a jump anywhere in 64 bits
        else v += r.chance(0.5) ? pace : pace + BigInt(r.int(1000)) * (r.chance(0.5) ? 1n : -1n);
        values.push(r.chance(nulls) ? null : v);
      }
      intRoundTrip(values, 1);
      intRoundTrip(values, 2);
    }
  });

  it('keeps values outside 64 bits and negatives exact too', () => {
    intRoundTrip([-(2n ** 70n), 2n ** 80n + 1n, -1n, 0n, null, 2n ** 64n], 2);
    intRoundTrip([U64_MAX, 0n, U64_MAX, 0n], 2);
  });

  it('costs next to nothing for what does not move, and for a steady pace', () => {
    expect(intRoundTrip(Array(60).fill(12_345_678n), 1)).toBeLessThanOrEqual(6);
    expect(intRoundTrip(Array.from({ length: 60 }, (_, i) => TWO_53 + BigInt(i) * 1_000_000_000n), 2)).toBeLessThanOrEqual(20);
    expect(intRoundTrip(Array(60).fill(null), 2)).toBe(1);
    // whole µs in ns (cgroup v2 CPU times): the common factor is taken out
    const us = Array.from({ length: 60 }, (_, i) => BigInt(i * i) * 1000n + TWO_53);
    expect(intRoundTrip(us, 2)).toBeLessThan(intRoundTrip(us.map((x, i) => x + BigInt(i % 7)), 2));
  });
});

describe('varints', () => {
  it('are unsigned LEB128 for Numbers of every size, as BigInt arithmetic writes them', () => {
    const leb128 = (v: bigint) => {
      const out: number[] = [];
      do {
        const low = Number(v & 127n);
        v >>= 7n;
        out.push(v ? low | 128 : low);
      } while (v);
      return Uint8Array.from(out);
    };
    const r = random(3);
    for (let i = 0; i < 20_000; i++) {
      const bits = r.int(54);
      const v = Math.min(Math.floor(r.next() * 2 ** bits), 2 ** 53 - 1);
      const w = new ByteWriter();
      w.varint(v);
      expect(w.finish(), String(v)).toEqual(leb128(BigInt(v)));
    }
    for (const v of [0, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1]) {
      const w = new ByteWriter();
      w.varint(v);
      expect(w.finish(), String(v)).toEqual(leb128(BigInt(v)));
    }
  });
});

/**
 * The integer column format as postgres-codec.ts's header describes it, written the plain way in
 * BigInt with no fast path: the oracle for the codec's bytes (its Number paths must agree).
 */
function referenceIntColumn(values: readonly (bigint | number | null)[], order: 1 | 2): Uint8Array {
  const out: number[] = [];
  const varint = (v: bigint) => {
    do {
      const low = Number(v & 127n);
      v >>= 7n;
      out.push(v ? low | 128 : low);
    } while (v);
  };
  const zz = (v: bigint) => (v >= 0n ? 2n * v : -2n * v - 1n);
  const xs = values.filter((v) => v !== null).map((v) => BigInt(v));
  if (xs.length === 0) return Uint8Array.of(0);
  if (xs.length === values.length) out.push(1);
  else {
    out.push(2);
    for (let i = 0; i < values.length; i += 8) {
      let bits = 0;
      for (let k = 0; k < 8 && i + k < values.length; k++) if (values[i + k] !== null) bits |= 1 << k;
      out.push(bits);
    }
  }
  varint(zz(xs[0]!));
  if (xs.length === 1) return Uint8Array.from(out);
  const firsts = xs.slice(1).map((x, i) => x - xs[i]!);
  const ds = order === 1 ? firsts : firsts.map((d, i) => d - (i ? firsts[i - 1]! : 0n));
  let g = 0n;
  for (const d of ds) {
    let [a, b] = [d < 0n ? -d : d, g];
    while (b) [a, b] = [b, a % b];
    g = a;
  }
  varint(g);
  if (g === 0n) return Uint8Array.from(out);
  for (let i = 0; i < ds.length; i++) {
    let run = 0;
    while (i + run < ds.length && ds[i + run] === 0n) run++;
    if (run) {
      varint(0n);
      varint(BigInt(run - 1));
      i += run - 1;
    } else varint(zz(ds[i]! / g));
  }
  return Uint8Array.from(out);
}

describe('integer column bytes', () => {
  it('are the format written plainly in BigInt, for Numbers, BigInts and both mixed, small and past 2^51', () => {
    const r = random(5);
    let mixed = 0;
    for (let run = 0; run < 3000; run++) {
      const n = r.int(70);
      let v = [0, 2 ** 40, 2 ** 51 - 100, 2 ** 53 - 5, -(2 ** 30)][r.int(5)]!;
      const pace = r.int(1e6) * [1, 1000, 1e7][r.int(3)]!;
      const nulls = [0, 0, 0.1, 1][r.int(4)]!;
      const asBig = [0, 0.5, 1][r.int(3)]!;
      const values: (bigint | number | null)[] = [];
      for (let i = 0; i < n; i++) {
        if (r.chance(0.03)) v = r.int(100);
        else if (r.chance(0.01)) v = r.int(2 ** 53);
        else if (!r.chance(0.2)) v += r.chance(0.5) ? pace : pace + r.int(1000) * (r.chance(0.5) ? 1 : -1);
        const x = Math.max(-(2 ** 53) + 1, Math.min(v, 2 ** 53 - 1));
        values.push(r.chance(nulls) ? null : r.chance(asBig) ? BigInt(x) + (r.chance(0.1) ? 2n ** 60n : 0n) : x);
      }
      if (values.some((x) => typeof x === 'bigint') && values.some((x) => typeof x === 'number')) mixed++;
      for (const order of [1, 2] as const) {
        const w = new ByteWriter();
        writeIntColumn(w, values, order);
        expect(w.finish(), JSON.stringify(values, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))).toEqual(referenceIntColumn(values, order));
      }
    }
    expect(mixed).toBeGreaterThan(300);
  });
});

describe('integer columns read from a slab (writeIntColumnStrided)', () => {
  it('write the very bytes writeIntColumn writes for the same values, or nothing and false where they are not small', () => {
    const r = random(11);
    let strided = 0;
    let refused = 0;
    for (let run = 0; run < 3000; run++) {
      const n = r.int(90);
      const stride = 1 + r.int(40);
      const start = r.int(stride);
      const slab = new Float64Array(start + n * stride).map(() => r.int(1e6)); // other columns' values in between
      let v = [0, 2 ** 40, 2 ** 51 - 100, 2 ** 53 - 5, -(2 ** 30)][r.int(5)]!;
      const pace = r.int(1e6) * [1, 1000, 1e7][r.int(3)]!;
      for (let i = 0; i < n; i++) {
        if (r.chance(0.03)) v = r.int(100);
        else if (r.chance(0.01)) v = r.int(2 ** 53);
        else if (!r.chance(0.2)) v += r.chance(0.5) ? pace : pace + r.int(1000) * (r.chance(0.5) ? 1 : -1);
        slab[start + i * stride] = v;
      }
      const values = Array.from({ length: n }, (_, i) => slab[start + i * stride]!);
      for (const order of [1, 2] as const) {
        const fast = new ByteWriter();
        fast.byte(0xee);
        const wrote = writeIntColumnStrided(fast, slab, start, stride, n, order);
        const ref = new ByteWriter();
        ref.byte(0xee);
        writeIntColumn(ref, values, order);
        if (wrote) {
          strided++;
          expect(fast.finish()).toEqual(ref.finish());
          expect(fast.finish().subarray(1)).toEqual(referenceIntColumn(values, order));
          const back = readIntColumn(new ByteReader(ref.finish(), 1), n, order);
          expect(back).toEqual(values.map((x) => BigInt(x)));
        } else {
          refused++;
          expect(fast.finish()).toEqual(Uint8Array.of(0xee));
        }
      }
    }
    // both ways were taken often (of 6,000: small series, and those with values or steps past 2^51)
    expect(strided).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });
});

describe('float columns', () => {
  it('round-trip short decimals as scaled integers and everything else as raw floats', () => {
    const r = random(11);
    for (let run = 0; run < 1000; run++) {
      const n = 1 + r.int(70);
      const decimals = r.int(5);
      const kind = r.int(4);
      const values = Array.from({ length: n }, () => {
        if (r.chance(0.1)) return null;
        if (kind === 0 || (kind === 3 && !r.chance(0.05))) return Math.round(r.next() * 1e6 * 10 ** decimals) / 10 ** decimals; // what derive() rounds to
        if (kind === 1) return r.next() * 1e9 - 5e8; // an average
        return [Number.MAX_VALUE, Number.MIN_VALUE, -0, 1e300, 2 ** 53 + 2][r.int(5)]!;
      });
      floatRoundTrip(values);
    }
    expect(floatRoundTrip(Array.from({ length: 60 }, (_, i) => 12.5 + (i % 3) * 0.25))).toBeLessThan(70);
    // one value that is not a short decimal (an average over a restart) costs its 8 bytes, not the column's
    const mostly = Array.from({ length: 60 }, (_, i) => (i === 17 ? 1 / 3 : 12.5 + (i % 3) * 0.25));
    expect(floatRoundTrip(mostly)).toBeLessThan(70 + 12);
  });
});

/** Appends a VM's snapshots to blocks as the store does (a new block per minute, chained). */
function toBlocks(series: MetricSnapshot[]) {
  const blocks: OpenBlock[] = [];
  let previous: Sample | undefined;
  for (const s of series) {
    let b = blocks.at(-1);
    if (!b || floorTo(s.ts, MINUTE_MS) !== b.minute || s.ts < b.lastTs) {
      previous = b?.last ?? previous;
      b = new OpenBlock(s.vmId, s.ts, previous);
      blocks.push(b);
    }
    b.append(s);
  }
  return blocks;
}

function expectSame(back: ReturnType<typeof decodeBlock>, sent: MetricSnapshot[]) {
  expect(back).toHaveLength(sent.length);
  back.forEach((b, i) => {
    const s = sent[i]!;
    expect(b.ts).toBe(s.ts);
    expect(b.state).toBe(s.state);
    expect(b.cpus).toBe(s.cpus);
    expect(b.stale).toBe(s.stale);
    expect(b.memoryMax).toBe(s.memoryMax);
    expect(b.metrics).toEqual(s.metrics); // BigInt, exact; absent stays absent
    // rates and percentages: the collector's numbers, bit for bit (NaN/∞ read as "no value")
    expect(b.derived).toEqual(derivedOf(s));
  });
}

describe('raw blocks', () => {
  it('give back every sample of random fleets exactly: counters, rates, percentages, restarts, gaps, lost ticks', () => {
    for (const seed of [1, 2]) {
      const ticks = randomFleet({ vms: 8, start: Date.UTC(2026, 10, 1), ticks: 900, seed, bigValues: true });
      for (let vm = 1; vm <= 8; vm++) {
        const series = ticks.flatMap((t) => t.filter((s) => s.vmId === vm));
        const blocks = toBlocks(series);
        const back = blocks.flatMap((b) => decodeBlock(b.encode()));
        expectSame(back, series);
      }
    }
  });

  it('hold more samples than a minute at 1 Hz, and values past 2^64 or below 0, exactly', () => {
    // 150 samples 400 ms apart in one minute: the block's columns grow (twice) with the big values in them
    const start = Date.UTC(2026, 10, 1);
    const series = Array.from({ length: 150 }, (_, i) =>
      snap(1, start + i * 400, i, { metrics: { cputime: U64_MAX - 1000n + BigInt(i), timeusr: 2n ** 70n + BigInt(i), memrss: -BigInt(i) - 1n, net_rxbytes: TWO_53 + BigInt(i) } }),
    );
    const blocks = toBlocks(series);
    expect(blocks).toHaveLength(1);
    expectSame(decodeBlock(blocks[0]!.encode()), series);
  });

  it("give back exactly what they hold when they fill an encoded block's columns: nothing of the block before shows", () => {
    // the first block: more metrics, values past 2^53 and 2^64, columns grown past their first 64 rows
    const start = Date.UTC(2026, 10, 1);
    const full = Array.from({ length: 100 }, (_, i) =>
      snap(1, start + i * 500, i, { state: i % 2 ? 'running' : 'paused', stale: i % 3 === 0, metrics: { cputime: U64_MAX - 1000n + BigInt(i), timeusr: 2n ** 70n, memrss: 5n, disk_rd_bytes: BigInt(i) } }),
    );
    const [first] = toBlocks(full);
    expectSame(decodeBlock(first!.encode()), full);
    // the next block in its columns: fewer samples, other metrics, another VM
    const sparse = Array.from({ length: 10 }, (_, i) => snap(2, start + MINUTE_MS + i * 1000, i, { metrics: { memactual: BigInt(i) } }));
    const next = new OpenBlock(2, sparse[0]!.ts, undefined, first!.release());
    for (const s of sparse) next.append(s);
    expectSame(decodeBlock(next.encode()), sparse);
    // a released block is not read again by mistake
    expect(() => first!.encode()).toThrow(TypeError);
  });

  it('store rates the counters cannot reproduce explicitly, and keep none when they can', () => {
    // snap() rates are arbitrary numbers, not what derive() would make of its counters
    const series = Array.from({ length: 60 }, (_, i) => snap(1, Date.UTC(2026, 10, 1) + i * 1000, i));
    expectSame(decodeBlock(toBlocks(series)[0]!.encode()), series);
    const real = randomFleet({ vms: 1, start: Date.UTC(2026, 10, 1), ticks: 60, seed: 5 }).flat();
    const scrambled = real.map((s) => ({ ...s, rates: Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(s.rates)) as Record<string, number>).map(([m, v]) => [m, v * 1.5])) }));
    const [derived, explicit] = [real, scrambled].map((x) => toBlocks(x)[0]!.encode());
    expectSame(decodeBlock(explicit!), scrambled);
    expect(derived!.length).toBeLessThan(explicit!.length - 60 * 20 * 2);
  });

  it('compute each derived field alone exactly as derive() computes them all', () => {
    const series = randomFleet({ vms: 6, start: Date.UTC(2026, 10, 1), ticks: 400, seed: 13, bigValues: true }).flat();
    const byVm = new Map<number, MetricSnapshot[]>();
    for (const s of series) byVm.set(s.vmId, [...(byVm.get(s.vmId) ?? []), s]);
    for (const list of byVm.values()) {
      list.forEach((cur, i) => {
        for (const prev of [list[i - 1], undefined]) {
          expect(DERIVED_FROM_SAMPLES.map((f) => f(prev, cur))).toEqual(derivedOf(derive(prev, cur)));
        }
      });
    }
  });

  it('tell a sample whose derived values derive() gives back from one whose values it does not, as comparing derive() whole does', () => {
    const series = randomFleet({ vms: 6, start: Date.UTC(2026, 10, 1), ticks: 300, seed: 21, bigValues: true }).flat();
    const byVm = new Map<number, MetricSnapshot[]>();
    for (const s of series) byVm.set(s.vmId, [...(byVm.get(s.vmId) ?? []), s]);
    const seen = { yes: 0, no: 0 };
    for (const list of byVm.values()) {
      list.forEach((cur, i) => {
        const want = derivedOf(cur);
        // the snapshot's own values, and each of them nudged or dropped in turn
        const wants = [want, ...want.map((v, k) => want.map((w, j) => (j !== k ? w : v === null ? 1 : k % 2 ? null : v + 0.001)))];
        for (const prev of [list[i - 1], list[i - 2], undefined]) {
          const whole = derivedOf(derive(prev, cur));
          for (const w of wants) {
            const same = whole.every((v, k) => v === w[k]);
            expect(reproduces(prev, cur, w)).toBe(same);
            seen[same ? 'yes' : 'no']++;
          }
        }
      });
    }
    expect(seen.yes).toBeGreaterThan(500);
    expect(seen.no).toBeGreaterThan(500);
  });

  it('read single fields the same way as whole samples', () => {
    const series = randomFleet({ vms: 3, start: Date.UTC(2026, 10, 1), ticks: 600, seed: 9 }).flat().filter((s) => s.vmId === 2);
    for (const b of toBlocks(series)) {
      const bytes = b.encode();
      const whole = decodeBlock(bytes);
      const fields = ['cpu_pct', 'mem_pct', 'net_rxbytes_rate', 'memrss', 'cputime'] as const;
      const { ts, values } = readBlockFields(bytes, [...fields]);
      expect(ts).toEqual(whole.map((s) => s.ts));
      fields.forEach((f, k) => {
        const d = DERIVED_FIELDS.indexOf(f);
        expect(values[k]).toEqual(whole.map((s) => (d >= 0 ? s.derived[d] : s.metrics[f as 'memrss'] === undefined ? null : Number(s.metrics[f as 'memrss']))));
      });
    }
  });

  it('hold a whole minute of 1 Hz samples of one VM in a few kB, metrics absent costing nothing', () => {
    const series = randomFleet({ vms: 1, start: Date.UTC(2026, 10, 1), ticks: 60, seed: 4 }).flat();
    const [b] = toBlocks(series);
    expect(b!.encode().length).toBeLessThan(60 * 80);
    expect(decodeBlock(b!.encode()).every((s) => METRIC_NAMES.every((m) => s.metrics[m] !== undefined || series[0]!.metrics[m] === undefined))).toBe(true);
  });
});

describe('rollup entries', () => {
  it('round-trip, nulls and 64-bit counters included', () => {
    const r = random(3);
    const entries: Entry[] = Array.from({ length: 60 }, (_, i) => ({
      ts: Date.UTC(2026, 10, 1) + i * MINUTE_MS,
      n: 55 + r.int(6),
      stats: ROLLUP_STATS.map(() => (r.chance(0.1) ? null : { sum: r.chance(0.5) ? r.next() * 6000 : r.int(600_000) / 100, w: 60, min: r.int(100) / 100, max: 100 + r.int(100) / 4 })),
      last: ROLLUP_LAST.map(() => (r.chance(0.1) ? null : U64_MAX - BigInt(r.int(1e9)))),
    }));
    expect(decodeEntries(encodeEntries(entries))).toEqual(entries);
    // asking for some fields only leaves the others null
    const some = decodeEntries(encodeEntries(entries), { stats: new Set([0]), last: new Set([3]) });
    expect(some.map((e) => e.stats[0])).toEqual(entries.map((e) => e.stats[0]));
    expect(some.every((e) => e.stats[1] === null && e.last[0] === null)).toBe(true);
    expect(some.map((e) => e.last[3])).toEqual(entries.map((e) => e.last[3]));
  });
});
