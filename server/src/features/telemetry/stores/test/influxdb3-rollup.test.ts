// vmpulse's own 1-minute and 1-hour rollups: what a closed bucket row holds, when buckets close.
// Expected values are computed here from the samples fed in, not taken from the implementation.
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../../../../test/fakes/influxdb3-fake-catalog.js';
import { Rollups } from '../influxdb3-rollup.js';
import { snapshotFixture } from './influxdb3-fixtures.js';

const M0 = Date.UTC(2026, 2, 3, 10, 0, 0); // an hour boundary
const rows = (lines: string[]) => lines.map((l) => {
  const p = parseLine(l);
  return { table: p.table, ts: Number(p.timestamp), tags: Object.fromEntries(p.tags), fields: Object.fromEntries(p.fields.map(([k, , v]) => [k, v])) };
});

describe('rollups', () => {
  it('closes a minute when the next minute starts: samples, sum/count/min/max, counters at their last value', () => {
    const r = new Rollups();
    const out: string[] = [];
    const pct = [10, 30, 20];
    for (const [i, p] of pct.entries()) r.add(snapshotFixture(1, M0 + i * 20_000, i, { cpuPct: { user: null, system: 2, total: p } }), out);
    expect(out).toEqual([]); // still open
    r.add(snapshotFixture(1, M0 + 60_000, 3), out);
    const [row] = rows(out);
    expect(row).toMatchObject({ table: 'vmpulse_vm_1m', ts: M0, tags: { vm_id: '1', domain_name: 'vm-1', host: 'host-a' } });
    expect(row!.fields).toMatchObject({
      samples: 3n,
      cpu_pct_sum: 60, cpu_pct_count: 3n, cpu_pct_min: 10, cpu_pct_max: 30,
      cpu_system_pct_sum: 6, cpu_system_pct_count: 3n,
      cputime_rate_sum: 3e9, memactual_sum: 3 * 1_048_576, memactual_min: 1_048_576,
      cputime_last: 9_007_199_254_740_993n + 2n * 1_000_000n, // the third sample's counter
      memminor_fault_last: 3_458n,
    });
    expect(row!.fields).not.toHaveProperty('cpu_user_pct_sum'); // never reported in that minute: absent, not 0
    expect(row!.fields).not.toHaveProperty('disk_errors_last'); // QEMU reports no block errors
  });

  it('folds closed minutes into the hour, weighting by samples, and closes the hour when the next one starts', () => {
    const r = new Rollups();
    const out: string[] = [];
    // minute 0: two samples of 10; minute 59: one sample of 40 → hour average (10+10+40)/3 = 20
    r.add(snapshotFixture(1, M0, 0, { cpuPct: { user: 1, system: 1, total: 10 } }), out);
    r.add(snapshotFixture(1, M0 + 30_000, 1, { cpuPct: { user: 1, system: 1, total: 10 } }), out);
    r.add(snapshotFixture(1, M0 + 59 * 60_000, 2, { cpuPct: { user: 1, system: 1, total: 40 } }), out);
    r.add(snapshotFixture(1, M0 + 60 * 60_000, 3), out);
    const hour = rows(out).find((x) => x.table === 'vmpulse_vm_1h')!;
    expect(hour.ts).toBe(M0);
    expect(hour.fields).toMatchObject({ samples: 3n, cpu_pct_sum: 60, cpu_pct_count: 3n, cpu_pct_min: 10, cpu_pct_max: 40 });
    expect(rows(out).filter((x) => x.table === 'vmpulse_vm_1m').map((x) => x.ts)).toEqual([M0, M0 + 59 * 60_000]);
  });

  it('closes the buckets of a VM that stopped sampling once a tick passes their end by the grace', () => {
    const r = new Rollups();
    const out: string[] = [];
    r.add(snapshotFixture(7, M0 + 10_000, 0), out);
    r.closeDue(M0 + 64_000, out);
    expect(out).toEqual([]); // 4 s after the minute's end: a late tick may still come
    r.closeDue(M0 + 65_000, out);
    expect(rows(out).map((x) => x.table)).toEqual(['vmpulse_vm_1m']);
    r.closeDue(M0 + 3_605_000, out);
    expect(rows(out).map((x) => x.table)).toEqual(['vmpulse_vm_1m', 'vmpulse_vm_1h']);
  });

  it('ignores a sample for a minute already written (the raw row keeps it) instead of rewriting that row', () => {
    const r = new Rollups();
    const out: string[] = [];
    r.add(snapshotFixture(1, M0 + 1000, 0), out);
    r.add(snapshotFixture(1, M0 + 61_000, 1), out);
    r.add(snapshotFixture(1, M0 + 59_000, 2), out); // late, for minute 0
    r.flush(out);
    expect(rows(out).filter((x) => x.table === 'vmpulse_vm_1m').map((x) => [x.ts, x.fields.samples])).toEqual([[M0, 1n], [M0 + 60_000, 1n]]);
  });

  it('flush() writes the open minute and hour (at close)', () => {
    const r = new Rollups();
    const out: string[] = [];
    r.add(snapshotFixture(1, M0 + 5_000, 0), out);
    r.add(snapshotFixture(2, M0 + 5_000, 0), out);
    r.flush(out);
    expect(rows(out).map((x) => `${x.table}:${x.tags.vm_id}`).sort()).toEqual(['vmpulse_vm_1h:1', 'vmpulse_vm_1h:2', 'vmpulse_vm_1m:1', 'vmpulse_vm_1m:2']);
  });
});
