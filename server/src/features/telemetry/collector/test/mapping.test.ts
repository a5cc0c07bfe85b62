import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../../../domain/metrics.js';
import { mapStatsOf } from '../mapping.js';
import { MetricRecord, metricNumber } from '../metric-record.js';

/** A plain stats record through the collector's mapping (the loop reads its StatsTable rows the same way). */
const mapStats = (record: Record<string, bigint | number | string | boolean>) => mapStatsOf((k) => record[k]);

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

  it('leaves out what the hypervisor does not report instead of inventing zeros', () => {
    const m = mapStats({ 'state.state': 1, 'cpu.time': 5n, 'block.count': 1, 'block.0.name': 'vda', 'block.0.rd.reqs': 1n, 'block.0.errors': -1n });
    expect(m.metrics).toEqual({ cputime: 5n, disk_rd_req: 1n });
    expect('memrss' in m.metrics).toBe(false);
    expect('disk_errors' in m.metrics).toBe(false); // -1 = not supported by the driver
    expect('net_rxbytes' in m.metrics).toBe(false);
  });

  it('handles a domain with state only (inactive, or the test driver bulk call)', () => {
    expect(mapStats({ 'state.state': 5, 'state.reason': 1 })).toEqual({ metrics: {}, nics: [], disks: [] });
  });

  it('puts each value of a MetricRecord under its own name, in METRIC_NAMES order, and leaves the missing ones out', () => {
    const all = new MetricRecord(METRIC_NAMES.map((_, i) => BigInt(i + 1)));
    expect(Object.entries(all)).toEqual(METRIC_NAMES.map((m, i) => [m, BigInt(i + 1)]));
    const some = new MetricRecord(METRIC_NAMES.map((_, i) => (i % 2 ? BigInt(i) : undefined)));
    expect(Object.keys(some)).toEqual(METRIC_NAMES.filter((_, i) => i % 2));
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
