// The table form of the stats calls against the object form (the oracle): same records, same
// keys in the same order, same types; equal values except the counters that move between the calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../connection.js';
import { StatsTableReader, statsKeySlot } from '../stats-table.js';
import { VirErr } from '../errors.js';
import type { StatParams } from '../types.js';

const MOVING = /(^cpu\.(time|user|system)$|^vcpu\.\d+\.time$|\.(bytes|pkts|reqs)$)/;

function sameRecord(table: StatParams, object: StatParams) {
  expect(Object.keys(table)).toEqual(Object.keys(object));
  for (const [k, v] of Object.entries(object)) {
    expect(typeof table[k], k).toBe(typeof v);
    if (!MOVING.test(k)) expect(table[k], k).toBe(v);
  }
}

/** the oracle for number(): the value as a double where that is an exact non-negative integer, else NaN */
function exactOracle(v: unknown): number {
  if (typeof v === 'bigint') return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER ? v : Number.NaN;
  return Number.NaN;
}

/** the oracle for counter(): an exact double where number() has one, else the value as a BigInt (fraction dropped) when it is a non-negative number, else undefined */
function counterOracle(v: unknown): number | bigint | undefined {
  const x = exactOracle(v);
  if (!Number.isNaN(x)) return x;
  if (typeof v === 'bigint') return v >= 0n ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v));
  return undefined;
}

const everyEntry = (t: StatsTableReader) => Array.from(t.table.kind, (_, j) => j);

describe('number(): an entry as an exact double, no BigInt made', () => {
  it('reads 64-bit integers from their halves exactly up to 2^53 − 1, and gives NaN past it, for negatives, fractions, booleans and strings', () => {
    // kinds: 0 int, 1 uint, 2 llong, 3 ullong, 4 double, 5 boolean, 6 string
    const entries: [number, number | bigint][] = [
      [3, 0n], [3, 1n], [3, 2n ** 32n - 1n], [3, 2n ** 32n], [3, 2n ** 40n + 5n], [3, 2n ** 53n - 1n], [3, 2n ** 53n], [3, 2n ** 53n + 1n], [3, 2n ** 64n - 1n],
      [2, 7n], [2, 2n ** 52n + 3n], [2, -1n], [2, -(2n ** 40n)], [2, 2n ** 63n - 1n],
      [0, 5], [0, -5], [1, 4_000_000_000], [4, 2.5], [4, 1e300], [4, 12], [5, 1], [6, 0],
    ];
    const values = new ArrayBuffer(entries.length * 8);
    const [i64, u64, f64] = [new BigInt64Array(values), new BigUint64Array(values), new Float64Array(values)];
    entries.forEach(([kind, v], j) => {
      if (kind === 2) i64[j] = v as bigint;
      else if (kind === 3) u64[j] = v as bigint;
      else f64[j] = v as number;
    });
    const t = new StatsTableReader({
      uuids: ['u'], names: ['n'], keys: entries.map((_, j) => `k${j}`), strings: ['a string'],
      start: Uint32Array.of(0, entries.length), key: Uint32Array.from(entries, (_, j) => j), kind: Uint8Array.from(entries, ([k]) => k), values,
    });
    const got = everyEntry(t).map((j) => t.number(j));
    expect(got).toEqual(everyEntry(t).map((j) => exactOracle(t.value(j))));
    // what the oracle says, spelled out
    expect(got.slice(0, 9)).toEqual([0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, 2 ** 53 - 1, Number.NaN, Number.NaN, Number.NaN]);
    expect(got.slice(9, 14)).toEqual([7, 2 ** 52 + 3, Number.NaN, Number.NaN, Number.NaN]);
    // counter(): those doubles, BigInts past 2^53 − 1, nothing for negatives, booleans and strings
    const counters = everyEntry(t).map((j) => t.counter(j));
    expect(counters).toEqual(everyEntry(t).map((j) => counterOracle(t.value(j))));
    expect(counters.slice(5, 14)).toEqual([2 ** 53 - 1, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n, 7, 2 ** 52 + 3, undefined, undefined, 2n ** 63n - 1n]);
    expect(counters.slice(14)).toEqual([5, undefined, 4_000_000_000, 2n, BigInt(1e300), 12, undefined, undefined]);
  });
});

describe('stats as tables (test:///default)', () => {
  let conn: LibvirtConnection;
  let uuids: string[];

  beforeAll(async () => {
    conn = await LibvirtConnection.open('test:///default');
    uuids = (await conn.listAllDomains()).map((d) => d.uuid);
  });
  afterAll(async () => {
    await conn.close();
  });

  it('bulk: every record, keys in order, values as the objects have them', async () => {
    const groups = ['state', 'cpu-total', 'balloon', 'vcpu', 'interface', 'block'] as const;
    const t = new StatsTableReader(await conn.getAllDomainStatsTable({ groups }));
    const objects = await conn.getAllDomainStats({ groups });
    expect(t.table.uuids).toEqual(objects.map((r) => r.uuid));
    expect(t.table.names).toEqual(objects.map((r) => r.name));
    objects.forEach((r, row) => {
      sameRecord(t.record(row), r.params);
    });
    // number() against the values as read, every entry (the test driver's cpu.time is past 2^53)
    expect(everyEntry(t).map((j) => t.number(j))).toEqual(everyEntry(t).map((j) => exactOracle(t.value(j))));
    expect(everyEntry(t).map((j) => t.counter(j))).toEqual(everyEntry(t).map((j) => counterOracle(t.value(j))));
    // keys once per table, whatever the number of records
    expect(new Set(t.table.keys).size).toBe(t.table.keys.length);
    const row = t.table.uuids.indexOf(uuids[0]!);
    expect(t.value(t.entry(row, t.keyOf('state.state')))).toBe(1);
    expect(t.entry(row, t.keyOf('no.such.key'))).toBe(-1);
    // by number: each of the table's keys at its own index; a key numbered after the index was built is in no row
    expect(t.table.keys.map((k) => t.keyAt(statsKeySlot(k)))).toEqual(t.table.keys.map((_, i) => i));
    expect(t.keyAt(statsKeySlot(`numbered.later.${Date.now()}`))).toBe(-1);
  });

  it('per call: params, devices read from the XML, errors, parallel tables', async () => {
    const uuid = uuids[0]!;
    const dead = '00000000-0000-0000-0000-00000000dead';
    const [table] = await conn.domainStatsPerCallTable([{ uuid }, { uuid: dead }, { uuid, interfaces: ['testnet0'], blocks: ['vda'] }]);
    const objects = await conn.domainStatsPerCall([uuid, dead, { uuid, interfaces: ['testnet0'], blocks: ['vda'] }]);
    const t = new StatsTableReader(table!);
    expect(t.table.uuids).toEqual([uuid, dead, uuid]);
    sameRecord(t.record(0), objects[0]!.params);
    sameRecord(t.record(2), objects[2]!.params);
    expect(t.record(1)).toEqual({});
    expect(table!.extra[0]).toEqual({ devices: { interfaces: ['testnet0'], blocks: ['vda'] } });
    expect(table!.extra[1]?.error?.code).toBe(VirErr.NO_DOMAIN);
    // devices given: nothing more to say
    expect(table!.extra[2]).toBeUndefined();
    expect(t.value(t.entry(0, t.keyOf('net.0.name')))).toBe('testnet0');
    expect(typeof t.value(t.entry(0, t.keyOf('cpu.time')))).toBe('bigint');
    expect(t.value(t.entry(0, t.keyOf('vcpu.current')))).toBe(2);
    // another table, its keys in its own order: the same numbers find them
    expect(['cpu.time', 'net.0.name', 'vcpu.current'].map((k) => t.keyOf(k))).toEqual(['cpu.time', 'net.0.name', 'vcpu.current'].map((k) => t.table.keys.indexOf(k)));
    expect(everyEntry(t).map((j) => t.number(j))).toEqual(everyEntry(t).map((j) => exactOracle(t.value(j))));

    const par = await conn.domainStatsPerCallTable([{ uuid }, { uuid }, { uuid }], { parallel: 3 });
    expect(par.map((x) => x.uuids)).toEqual([[uuid], [uuid], [uuid]]);
  });
});
