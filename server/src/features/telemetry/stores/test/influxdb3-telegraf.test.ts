// Telegraf's libvirt tables, checked against Telegraf's README (telegraf-libvirt-readme.ts), not against
// vmpulse's own table definitions. The real-guest check is influxdb3-telegraf-guest.test.ts.
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../../../../test/fakes/influxdb3-fake-catalog.js';
import { telegrafLines } from '../influxdb3-telegraf.js';
import { libvirtRecordFixture } from './influxdb3-fixtures.js';
import { TELEGRAF_README_ROWS } from './telegraf-libvirt-readme.js';
import { checkAgainstReadme } from './telegraf-readme-check.js';

const TAGS = ',domain_name=vm-1,host=host-a,vm_id=1';
const BASE = { domain_name: 'vm-1', host: 'host-a', vm_id: '1' };
const linesOf = (record: Parameters<typeof telegrafLines>[0]) => {
  const out: string[] = [];
  telegrafLines(record, TAGS, 1_700_000_000_000, out);
  return out;
};
const fieldsOf = (lines: string[], table: string) => lines.map(parseLine).filter((l) => l.table === table).map((l) => Object.fromEntries(l.fields.map(([k, , v]) => [k, v])));

/** Every metric the README documents for vmpulse's groups, with a value of libvirt's type for it. */
const EVERY_METRIC = {
  ...libvirtRecordFixture(0),
  'cpu.cache.monitor.count': 1, 'cpu.cache.monitor.0.name': 'any_name_vcpus_0-3', 'cpu.cache.monitor.0.vcpus': '0-3',
  'cpu.cache.monitor.0.bank.count': 1, 'cpu.cache.monitor.0.bank.0.id': 0, 'cpu.cache.monitor.0.bank.0.bytes': 5_406_720n,
  'vcpu.0.halted': false, 'vcpu.1.halted': true,
  'block.0.errors': 0n, 'block.0.threshold': 2_147_483_648n,
};

describe("Telegraf's libvirt tables", () => {
  it('match the README table by table for a recorded real-guest record (QEMU/TCG, libvirt 9.0)', () => {
    const record = libvirtRecordFixture(3);
    const { tables, problems } = checkAgainstReadme(record, linesOf(record).join('\n'), BASE);
    expect(problems).toEqual([]);
    expect([...tables.keys()]).toEqual([
      'libvirt_state', 'libvirt_cpu', 'libvirt_cpu_cache_monitor_total', 'libvirt_balloon', 'libvirt_vcpu_total', 'libvirt_vcpu',
      'libvirt_net_total', 'libvirt_net', 'libvirt_block_total', 'libvirt_block',
    ]);
    expect(tables.get('libvirt_vcpu')!.lines).toBe(2);
  });

  it('(the check itself catches a 0 for an unreported counter, a `time` field, an undocumented field and a missing one)', () => {
    const record = libvirtRecordFixture(0);
    const bad = linesOf(record).map((l) => (l.startsWith('libvirt_block,') ? l.replace(' name=', ' errors=0i,name=') : l.startsWith('libvirt_cpu,') ? l.replace('cpu_time=', 'time=') : l));
    bad.push(`libvirt_net${TAGS},interface_id=0 name="vnet0",speed=1i 1`);
    const { problems } = checkAgainstReadme(record, bad.join('\n'), BASE);
    expect(problems).toEqual(expect.arrayContaining([
      'libvirt_block|0: errors written but libvirt did not report it',
      'libvirt_cpu: field time is not in Telegraf\'s README for this table',
      'libvirt_cpu: reserved column time',
      'cpu.time (libvirt_cpu.cpu_time): reported by libvirt, missing from the lines',
      'libvirt_net: field speed is not in Telegraf\'s README for this table',
    ]));
  });

  it('cover every field the README documents for the groups vmpulse collects', () => {
    const { tables, problems } = checkAgainstReadme(EVERY_METRIC, linesOf(EVERY_METRIC).join('\n'), BASE);
    expect(problems).toEqual([]);
    const written = new Set([...tables].flatMap(([table, r]) => r.fields.map((f) => `${table}.${f}`)));
    const documented = TELEGRAF_README_ROWS.map((r) => `${r.table}.${r.field === 'time' ? 'cpu_time' : r.field}`);
    expect(documented.filter((f) => !written.has(f))).toEqual([]);
  });

  it('write CPU time as cpu_time (InfluxDB 3 reserves `time`), in libvirt_cpu and libvirt_vcpu', () => {
    const lines = linesOf(libvirtRecordFixture(0));
    expect(fieldsOf(lines, 'libvirt_cpu')[0]).toMatchObject({ cpu_time: 9_007_199_254_740_993n, user: 5_000_000_000n, system: 1_000_000_000n });
    expect(fieldsOf(lines, 'libvirt_vcpu').map((f) => f.cpu_time)).toEqual([4_040_000_000n, 0n]);
    for (const line of lines) expect(parseLine(line).fields.map(([k]) => k)).not.toContain('time');
  });

  it('leave out what libvirt did not report instead of writing 0 (QEMU has no block errors, Xen only)', () => {
    const lines = linesOf(libvirtRecordFixture(0));
    const block = fieldsOf(lines, 'libvirt_block')[0]!;
    expect(block).not.toHaveProperty('errors');
    expect(block).not.toHaveProperty('threshold');
    expect(block).toMatchObject({ rd_times: 3_890_262n, wr_times: 3_194_713n, fl_reqs: 5n, fl_times: 5_144_166n, physical: 1_581_056n, path: '/var/lib/libvirt/images/vm.qcow2' });
    expect(fieldsOf(linesOf({ 'state.state': 1, 'block.count': 1, 'block.0.name': 'vda' }), 'libvirt_block')).toEqual([{ name: 'vda' }]);
    expect(linesOf({ 'state.state': 5, 'state.reason': 1 }).map((l) => parseLine(l).table)).toEqual(['libvirt_state']);
  });

  it('write state.reason, balloon unused and last_update, vcpu maximum and per-vCPU rows', () => {
    const lines = linesOf(libvirtRecordFixture(2));
    expect(fieldsOf(lines, 'libvirt_state')).toEqual([{ state: 1n, reason: 1n }]);
    expect(fieldsOf(lines, 'libvirt_balloon')[0]).toMatchObject({ unused: 65_856n, last_update: 1_796_005_576n });
    expect(fieldsOf(lines, 'libvirt_vcpu_total')).toEqual([{ current: 2n, maximum: 2n }]);
    expect(fieldsOf(lines, 'libvirt_vcpu')).toEqual([
      { state: 1n, cpu_time: 4_040_000_002n, wait: 0n, delay: 48_862_346n },
      { state: 1n, cpu_time: 0n, wait: 0n, delay: 3_031_554n },
    ]);
  });

  it('write halted as the README says ("yes"/"no" and halted_i 1/0) from libvirt\'s boolean', () => {
    const lines = linesOf({ 'vcpu.0.halted': true, 'vcpu.1.halted': false });
    expect(fieldsOf(lines, 'libvirt_vcpu')).toEqual([{ halted: 'yes', halted_i: 1n }, { halted: 'no', halted_i: 0n }]);
  });

  it('write every number as an integer, clamping unsigned 64-bit values past 2^63−1 as Telegraf does', () => {
    const lines = linesOf({ 'net.count': 1, 'net.0.name': 'vnet0', 'net.0.rx.bytes': 2n ** 64n - 1n });
    expect(lines[1]).toMatch(/ name="vnet0",rx_bytes=9223372036854775807i /);
    expect(parseLine(lines[0]!).fields).toEqual([['count', 'integer', 1n]]);
  });
});
