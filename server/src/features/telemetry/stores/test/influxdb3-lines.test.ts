import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../../../domain/metrics.js';
import { parseLine } from '../../../../../test/fakes/influxdb3-fake-catalog.js';
import { escapeKey, quoteString } from '../influxdb3-line-protocol.js';
import { snapshotLines } from '../influxdb3-lines.js';
import { snapshotFixture } from './influxdb3-fixtures.js';

const TS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const parse = (line: string) => {
  const p = parseLine(line);
  return { table: p.table, timeNs: p.timestamp! * 1_000_000n, tags: Object.fromEntries(p.tags), fields: Object.fromEntries(p.fields.map(([k, , v]) => [k, v])) };
};
const byTable = (lines: string[]) => {
  const rows = lines.map(parse);
  return (table: string) => rows.filter((r) => r.table === table);
};

describe('line protocol escaping', () => {
  it('escapes the characters each part of a line treats as syntax', () => {
    expect(escapeKey('C:\\vm\\')).toBe('C:\\\\vm\\\\'); // a trailing backslash must not escape the next separator
    expect(escapeKey('web server, prod=1')).toBe('web\\ server\\,\\ prod\\=1');
    expect(quoteString('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(escapeKey('two\nlines')).toBe('two\\ lines'); // a raw newline would end the line
  });

  it('round-trips awkward VM names and error strings through a line-protocol parser', () => {
    const name = 'web server, "prod"=1 \\ ü';
    const s = snapshotFixture(7, TS, 0, { vmName: name, hostName: 'rack 1,a', stale: true, ageMs: 1500, error: 'timed out, "domain" = stuck\\' });
    const [wide] = snapshotLines(s);
    const row = parse(wide!);
    expect(row.tags).toEqual({ domain_name: name, host: 'rack 1,a', vm_id: '7' });
    expect(row.fields.error).toBe('timed out, "domain" = stuck\\');
    expect(row.fields.stale).toBe(true);
    expect(row.fields.age_ms).toBe(1500n);
  });

  it('writes integer ms timestamps, integers with i, floats without, and skips non-finite floats', () => {
    const s = snapshotFixture(9, 1700000000123.9, 0, { rates: { cputime: 5, net_rxbytes: Number.NaN, net_txbytes: Infinity }, hostName: '' });
    const [wide] = snapshotLines(s);
    expect(wide).toMatch(/^vmpulse_vm,domain_name=vm-9,vm_id=9 state="running",cpus=2i,cputime=\d+i,/); // empty host tag left out
    expect(wide).toContain(',cputime_rate=5,');
    expect(wide).not.toMatch(/net_rxbytes_rate|net_txbytes_rate/);
    expect(wide).toMatch(/ 1700000000123$/);
  });
});

describe('snapshot → tables', () => {
  it('keeps 64-bit counters exact past 2^53', () => {
    const base = snapshotFixture(1, TS);
    const want = 9_223_372_036_854_775_001n;
    const s = { ...base, metrics: { ...base.metrics, cputime: want }, libvirt: { ...base.libvirt, 'cpu.time': want } };
    const lines = snapshotLines(s);
    expect(lines[0]).toContain(`cputime=${want}i`);
    const t = byTable(lines);
    expect(t('vmpulse_vm')[0]!.fields.cputime).toBe(want);
    expect(t('libvirt_cpu')[0]!.fields.cpu_time).toBe(want);
    expect(want > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('writes the wide row with all 25 seed metrics, rates, angles, percentages and flags', () => {
    const s = snapshotFixture(3, TS, 4);
    const [row] = byTable(snapshotLines(s))('vmpulse_vm');
    for (const m of METRIC_NAMES) expect(row!.fields[m], m).toBe(s.metrics[m]);
    expect(row!.timeNs).toBe(BigInt(TS) * 1_000_000n);
    expect(row!.fields).toMatchObject({
      state: 'running', cpus: 2n, memory_max: 2_097_152n, cputime_rate: 1e9, cputime_angle_deg: 90,
      cpu_pct: 19, cpu_user_pct: 14, cpu_system_pct: 5, mem_pct: 50, stale: false, uuid: s.uuid,
    });
    expect(row!.fields.error).toBeUndefined();
  });

  it('leaves unreported metrics out instead of writing zeros', () => {
    const s = snapshotFixture(4, TS, 0, {
      metrics: { cputime: 10n, net_rxbytes: 0n }, rates: {}, angles: {},
      cpuPct: { user: null, system: null, total: null }, memPct: null, nics: [], disks: [],
      libvirt: { 'state.state': 1, 'cpu.time': 10n, 'balloon.maximum': 2_097_152n, 'net.count': 0 },
    });
    const t = byTable(snapshotLines(s));
    const wide = t('vmpulse_vm')[0]!.fields;
    expect(wide.cputime).toBe(10n);
    expect(wide.net_rxbytes).toBe(0n); // a reported zero stays
    for (const absent of ['timeusr', 'memactual', 'disk_errors', 'cpu_pct', 'mem_pct', 'cputime_rate']) expect(wide[absent], absent).toBeUndefined();
    expect(t('libvirt_cpu')[0]!.fields).toEqual({ cpu_time: 10n });
    expect(t('libvirt_balloon')[0]!.fields).toEqual({ maximum: 2_097_152n });
    expect(t('libvirt_net')).toHaveLength(0);
    expect(t('libvirt_net_total')[0]!.fields).toEqual({ count: 0n });
    expect(t('libvirt_block_total')).toHaveLength(0); // the block group was not reported at all
  });

  it('tags every table with host, domain_name and vm_id, and devices with their libvirt index', () => {
    const lines = snapshotLines(snapshotFixture(5, TS, 0, { state: 'paused' }));
    const t = byTable(lines);
    const tags = { host: 'host-a', domain_name: 'vm-5', vm_id: '5' };
    for (const table of ['vmpulse_vm', 'libvirt_state', 'libvirt_cpu', 'libvirt_balloon', 'libvirt_vcpu_total', 'libvirt_net_total', 'libvirt_block_total']) {
      expect(t(table)[0]?.tags, table).toEqual(tags);
    }
    expect(t('libvirt_vcpu').map((r) => r.tags)).toEqual([{ ...tags, vcpu_id: '0' }, { ...tags, vcpu_id: '1' }]);
    expect(t('libvirt_net')[0]!.tags).toEqual({ ...tags, interface_id: '0' });
    expect(t('libvirt_block')[0]!.tags).toEqual({ ...tags, block_id: '0' });
    expect(new Set(lines.map((l) => parse(l).timeNs))).toEqual(new Set([BigInt(TS) * 1_000_000n]));
  });

  it('never writes a column InfluxDB 3 reserves (time, __chunk_order), in any table', () => {
    const lines = snapshotLines(snapshotFixture(8, TS, 3));
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const p = parseLine(line);
      for (const name of [...p.tags.map(([k]) => k), ...p.fields.map(([k]) => k)]) expect(['time', '__chunk_order'], line).not.toContain(name);
    }
  });

  it('writes only the wide row for a stale snapshot', () => {
    const lines = snapshotLines(snapshotFixture(6, TS, 0, { stale: true, ageMs: 3000, error: 'libvirt timeout' }));
    expect(lines).toHaveLength(1);
    expect(parse(lines[0]!).fields).toMatchObject({ stale: true, age_ms: 3000n, error: 'libvirt timeout' });
  });
});
