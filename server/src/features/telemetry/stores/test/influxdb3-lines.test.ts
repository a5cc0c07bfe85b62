import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../../../domain/metrics.js';
import { parseLine, snapshotFixture } from '../../../../../test/fakes/influxdb3-fake.js';
import { escapeKey, escapeMeasurement, quoteString } from '../influxdb3-line-protocol.js';
import { snapshotLines } from '../influxdb3-lines.js';

const TS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const parse = (line: string) => parseLine(line, 1_000_000n).row;
const byTable = (lines: string[]) => {
  const rows = lines.map(parse);
  return (table: string) => rows.filter((r) => r.table === table);
};

describe('line protocol escaping', () => {
  it('escapes the characters each part of a line treats as syntax', () => {
    expect(escapeMeasurement('my table,x')).toBe('my\\ table\\,x');
    expect(escapeKey('C:\\vm\\')).toBe('C:\\\\vm\\\\'); // a trailing backslash must not escape the next separator
    expect(escapeMeasurement('a=b')).toBe('a=b'); // `=` is plain text in a measurement
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
    const s = snapshotFixture(1, TS, 0, { metrics: { ...snapshotFixture(1, TS).metrics, cputime: 9_223_372_036_854_775_001n } });
    const want = s.metrics.cputime!;
    const lines = snapshotLines(s);
    expect(lines[0]).toContain(`cputime=${want}i`);
    const t = byTable(lines);
    expect(t('vmpulse_vm')[0]!.fields.cputime).toBe(want);
    expect(t('libvirt_cpu')[0]!.fields.time).toBe(want);
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
    });
    const t = byTable(snapshotLines(s));
    const wide = t('vmpulse_vm')[0]!.fields;
    expect(wide.cputime).toBe(10n);
    expect(wide.net_rxbytes).toBe(0n); // a reported zero stays
    for (const absent of ['timeusr', 'memactual', 'disk_errors', 'cpu_pct', 'mem_pct', 'cputime_rate']) expect(wide[absent], absent).toBeUndefined();
    expect(t('libvirt_cpu')[0]!.fields).toEqual({ time: 10n });
    expect(t('libvirt_balloon')[0]!.fields).toEqual({ maximum: 2_097_152n });
    expect(t('libvirt_net')).toHaveLength(0);
    expect(t('libvirt_net_total')[0]!.fields).toEqual({ count: 0n });
  });

  it('lays out Telegraf inputs.libvirt tables with host, domain_name and vm_id tags', () => {
    const s = snapshotFixture(5, TS, 0, {
      state: 'paused',
      nics: [snapshotFixture(5, TS).nics[0]!, { ...snapshotFixture(5, TS).nics[0]!, name: 'vnet1', rxbytes: 77n }],
    });
    const lines = snapshotLines(s);
    expect(lines).toHaveLength(7 + 2 + 1);
    const t = byTable(lines);
    const tags = { host: 'host-a', domain_name: 'vm-5', vm_id: '5' };
    for (const table of ['libvirt_state', 'libvirt_cpu', 'libvirt_balloon', 'libvirt_vcpu_total', 'libvirt_net_total', 'libvirt_block_total']) {
      expect(t(table)[0]?.tags, table).toEqual(tags);
    }
    expect(t('libvirt_state')[0]!.fields).toEqual({ state: 3n });
    expect(t('libvirt_cpu')[0]!.fields).toEqual({ time: s.metrics.cputime, user: s.metrics.timeusr, system: s.metrics.timesys });
    expect(t('libvirt_balloon')[0]!.fields).toMatchObject({ current: 1_048_576n, maximum: 2_097_152n, rss: 524_288n, disk_caches: 65_536n, minor_fault: 3_456n });
    expect(t('libvirt_vcpu_total')[0]!.fields).toEqual({ current: 2n });
    expect(t('libvirt_net').map((r) => [r.tags.interface_id, r.fields.name, r.fields.rx_bytes])).toEqual([['0', 'vnet0', 1_000n], ['1', 'vnet1', 77n]]);
    expect(t('libvirt_net')[1]!.fields).toMatchObject({ tx_bytes: 2_000n, rx_pkts: 10n, rx_errs: 0n, rx_drop: 0n, tx_pkts: 20n });
    expect(t('libvirt_block')[0]).toMatchObject({
      tags: { ...tags, block_id: '0' },
      fields: { name: 'vda', rd_reqs: 5n, rd_bytes: 4_096n, wr_reqs: 6n, wr_bytes: 8_192n, errors: 0n, capacity: 10n << 30n },
    });
  });

  it('writes only the wide row for a stale snapshot', () => {
    const lines = snapshotLines(snapshotFixture(6, TS, 0, { stale: true, ageMs: 3000, error: 'libvirt timeout' }));
    expect(lines).toHaveLength(1);
    expect(parse(lines[0]!).fields).toMatchObject({ stale: true, age_ms: 3000n, error: 'libvirt timeout' });
  });
});
