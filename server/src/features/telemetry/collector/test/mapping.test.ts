import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../../../domain/metrics.js';
import { mapStatsOf } from '../mapping.js';
import { plainRow } from './plain-row.js';
import { MetricRecord, hasAnyMetric, metricNumber } from '../metric-record.js';

/** a record of the mapping's as the plain record it stands for (what JSON.stringify writes) */
const json = (metrics: object) => (metrics as MetricRecord).toJSON();
/** A plain stats record through the collector's mapping (the loop reads its StatsTable rows the same way). */
const mapStats = (record: Record<string, bigint | number | string | boolean>) => mapStatsOf(plainRow(record));

describe('mapStatsOf', () => {
  it('maps bulk stats to the seed names, summing every NIC and disk', () => {
    const big = 2n ** 60n + 7n; // past 2^53: must stay exact
    const m = mapStats({
      'state.state': 1,
      'cpu.time': big,
      'cpu.user': 1_000_000_000n,
      'cpu.system': 500_000_000n,
      'balloon.current': 4_194_304n,
      'balloon.rss': 3_145_728n,
      'balloon.available': 1_048_576n,
      'balloon.usable': 2_097_152n,
      'balloon.swap_in': 0n,
      'balloon.major_fault': 10n,
      'balloon.disk_caches': 512_000n,
      'vcpu.current': 4,
      'net.count': 2,
      'net.0.name': 'vnet0',
      'net.0.rx.bytes': 100n,
      'net.0.tx.bytes': 10n,
      'net.0.rx.pkts': 1n,
      'net.1.name': 'vnet1',
      'net.1.rx.bytes': 200n,
      'net.1.tx.bytes': 20n,
      'net.1.rx.pkts': 2n,
      'block.count': 2,
      'block.0.name': 'vda',
      'block.0.rd.reqs': 5n,
      'block.0.rd.bytes': 4096n,
      'block.0.wr.reqs': 3n,
      'block.0.wr.bytes': 8192n,
      'block.0.allocation': 1000n,
      'block.0.capacity': 4000n,
      'block.1.name': 'vdb',
      'block.1.rd.reqs': 1n,
      'block.1.rd.bytes': 512n,
      'block.1.wr.reqs': 0n,
      'block.1.wr.bytes': 0n,
    });
    expect(m.metrics.cputime).toBe(big);
    expect(m.metrics.timeusr).toBe(1_000_000_000n);
    expect(m.metrics.memactual).toBe(4_194_304n);
    expect(m.metrics.memdisk_cache).toBe(512_000n);
    expect(m.metrics.net_rxbytes).toBe(300n);
    expect(m.metrics.net_txbytes).toBe(30n);
    expect(m.metrics.net_rxpackets).toBe(3n);
    expect(m.metrics.disk_rd_req).toBe(6n);
    expect(m.metrics.disk_rd_bytes).toBe(4608n);
    expect(m.metrics.disk_wr_reqs).toBe(3n);
    expect(m.cpus).toBe(4);
    expect(m.nics.map((n) => n.name)).toEqual(['vnet0', 'vnet1']);
    expect(m.disks[0]).toMatchObject({ name: 'vda', allocation: 1000n, capacity: 4000n });
  });

  it('gives the same record whether a row hands its values as exact doubles or only as BigInts; totals past 2^53 exact', () => {
    const record = {
      'state.state': 1,
      'cpu.time': 2n ** 60n,
      'cpu.user': 5n,
      'balloon.current': 2n ** 53n - 1n,
      'balloon.rss': 2n ** 53n,
      'balloon.available': 1_048_576,
      'net.count': 3,
      'net.0.rx.bytes': 2n ** 52n,
      'net.1.rx.bytes': 2n ** 52n,
      'net.2.rx.bytes': 1n,
      'net.0.tx.bytes': 3n,
      'net.1.tx.bytes': 4n,
      'block.count': 2,
      'block.0.rd.bytes': 2n ** 64n - 2n,
      'block.1.rd.bytes': 1n,
      'block.0.wr.bytes': 2n ** 53n - 2n,
      'block.1.wr.bytes': 1n,
    };
    const plain = plainRow(record);
    const viaDoubles = mapStatsOf(plain);
    const asBigInt = (v: number | bigint | undefined) => (typeof v === 'number' ? BigInt(v) : v);
    const viaBigInts = mapStatsOf({ get: (k) => plain.get(k), counter: (k) => asBigInt(plain.counter(k)) });
    expect(json(viaDoubles.metrics)).toEqual(json(viaBigInts.metrics));
    expect(json(viaDoubles.metrics)).toEqual({
      cputime: 2n ** 60n, timeusr: 5n, memactual: 2n ** 53n - 1n, memrss: 2n ** 53n, memavailable: 1_048_576n,
      net_rxbytes: 2n ** 53n + 1n, net_txbytes: 7n, disk_rd_bytes: 2n ** 64n - 1n, disk_wr_bytes: 2n ** 53n - 1n,
    });
    expect(viaDoubles.nics.map((n) => n.rxbytes)).toEqual([2n ** 52n, 2n ** 52n, 1n]);
  });

  it('reads each NIC and disk as the plain sample it stands for: exact BigInts, zeros for unreported counters, sizes only when reported, JSON in the same order', () => {
    const m = mapStats({
      'net.count': 1,
      'net.0.name': 'vnet0',
      'net.0.rx.bytes': 2n ** 64n - 1n,
      'net.0.tx.bytes': 2n ** 53n + 1n,
      'net.0.rx.pkts': 5n,
      'net.0.rx.errs': -1n,
      'block.count': 2,
      'block.0.name': 'vda',
      'block.0.rd.bytes': 4096n,
      'block.0.capacity': 2n ** 40n,
      'block.0.path': '/var/lib/libvirt/images/a.qcow2',
      'block.0.rd.times': 2n ** 60n + 1n,
      'block.0.fl.reqs': 7n,
      'block.1.rd.reqs': 3,
    });
    const [nic] = m.nics;
    expect([nic!.name, nic!.rxbytes, nic!.txbytes, nic!.rxpackets, nic!.rxerrors, nic!.txdrops]).toEqual(['vnet0', 2n ** 64n - 1n, 2n ** 53n + 1n, 5n, 0n, 0n]);
    const [vda, unnamed] = m.disks;
    expect([vda!.name, vda!.rd_bytes, vda!.rd_req, vda!.capacity, vda!.allocation]).toEqual(['vda', 4096n, 0n, 2n ** 40n, undefined]);
    expect([unnamed!.name, unnamed!.rd_req]).toEqual(['block1', 3n]);
    // libvirt's own block fields for /metrics, exact, absent where not reported, and not in JSON
    const leaves = ['path', 'rd.times', 'wr.times', 'fl.reqs', 'fl.times'] as const;
    expect(leaves.map((l) => vda!.libvirt!(l))).toEqual(['/var/lib/libvirt/images/a.qcow2', 2n ** 60n + 1n, undefined, 7n, undefined]);
    expect(leaves.map((l) => unnamed!.libvirt!(l))).toEqual(leaves.map(() => undefined));
    // JSON (replicas over Redis) as the plain samples were written: counters, name, then the sizes there are
    const bigints = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);
    expect(JSON.stringify(m.nics, bigints)).toBe(
      '[{"rxbytes":"18446744073709551615n","rxpackets":"5n","rxerrors":"0n","rxdrops":"0n","txbytes":"9007199254740993n","txpackets":"0n","txerrors":"0n","txdrops":"0n","name":"vnet0"}]',
    );
    expect(JSON.stringify(m.disks, bigints)).toBe(
      '[{"rd_req":"0n","rd_bytes":"4096n","wr_reqs":"0n","wr_bytes":"0n","errors":"0n","name":"vda","capacity":"1099511627776n"},{"rd_req":"3n","rd_bytes":"0n","wr_reqs":"0n","wr_bytes":"0n","errors":"0n","name":"block1"}]',
    );
    // totals: the -1 counter left out of its total, the rest exact
    expect(json(m.metrics)).toEqual({ net_rxbytes: 2n ** 64n - 1n, net_rxpackets: 5n, net_txbytes: 2n ** 53n + 1n, disk_rd_req: 3n, disk_rd_bytes: 4096n });
  });

  it('leaves out what the hypervisor does not report instead of inventing zeros', () => {
    const m = mapStats({ 'state.state': 1, 'cpu.time': 5n, 'block.count': 1, 'block.0.name': 'vda', 'block.0.rd.reqs': 1n, 'block.0.errors': -1n });
    expect(json(m.metrics)).toEqual({ cputime: 5n, disk_rd_req: 1n });
    expect(m.metrics.memrss).toBeUndefined();
    expect(m.metrics.disk_errors).toBeUndefined(); // -1 = not supported by the driver
    expect(m.metrics.net_rxbytes).toBeUndefined();
  });

  it('handles a domain with state only (inactive, or the test driver bulk call)', () => {
    const m = mapStats({ 'state.state': 5, 'state.reason': 1 });
    expect([json(m.metrics), m.nics, m.disks]).toEqual([{}, [], []]);
    expect(hasAnyMetric(m.metrics)).toBe(false);
    expect(hasAnyMetric(mapStats({ 'state.state': 1, 'balloon.rss': 0n }).metrics)).toBe(true);
  });

  it('reads each value of a MetricRecord by its own name, exact past 2^53 and 2^64, and leaves the missing ones out, in JSON too', () => {
    const all = new MetricRecord(METRIC_NAMES.map((_, i) => BigInt(i + 1)));
    expect(METRIC_NAMES.map((m) => all[m])).toEqual(METRIC_NAMES.map((_, i) => BigInt(i + 1)));
    expect(Object.entries(all.toJSON())).toEqual(METRIC_NAMES.map((m, i) => [m, BigInt(i + 1)]));
    // every other one missing; of those there, some only a BigInt holds exactly (wide), between exact ones
    const wide = (i: number) => (i % 3 === 0 ? 2n ** 53n + BigInt(i) : i % 3 === 1 ? 2n ** 70n + BigInt(i) : BigInt(i));
    const want = METRIC_NAMES.map((_, i) => (i % 2 ? wide(i) : undefined));
    const some = new MetricRecord(want);
    expect(METRIC_NAMES.map((m) => some[m])).toEqual(want);
    expect(Object.keys(some.toJSON())).toEqual(METRIC_NAMES.filter((_, i) => i % 2));
    const bigints = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
    expect(JSON.parse(JSON.stringify(some, bigints))).toEqual(Object.fromEntries(METRIC_NAMES.flatMap((m, i) => (i % 2 ? [[m, want[i]!.toString()]] : []))));
    // absent reads undefined, a wide value exact
    expect(some.cputime).toBeUndefined();
    expect(some.timeusr).toBe(2n ** 70n + 1n);
    expect(hasAnyMetric(some) && !hasAnyMetric(new MetricRecord([]))).toBe(true);
  });

  it('gives each metric as the double it equals only where that is exact, for its own records and plain ones alike', () => {
    const values = [2n ** 53n - 1n, 2n ** 53n, 0n, undefined, 2n ** 64n - 1n, 12_345n];
    const record = new MetricRecord(values);
    const plain = Object.fromEntries(values.flatMap((v, c) => (v === undefined ? [] : [[METRIC_NAMES[c]!, v]])));
    for (const metrics of [record, plain]) {
      expect(values.map((_, c) => metricNumber(metrics, c))).toEqual([2 ** 53 - 1, Number.NaN, 0, Number.NaN, Number.NaN, 12_345]);
    }
  });
});
