// The table form of the stats calls against the object form (the oracle): same records, same
// keys in the same order, same types; equal values except the counters that move between the calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../connection.js';
import { StatsTableReader } from '../stats-table.js';
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
    // keys once per table, whatever the number of records
    expect(new Set(t.table.keys).size).toBe(t.table.keys.length);
    const row = t.table.uuids.indexOf(uuids[0]!);
    expect(t.value(t.entry(row, t.keyOf('state.state')))).toBe(1);
    expect(t.entry(row, t.keyOf('no.such.key'))).toBe(-1);
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

    const par = await conn.domainStatsPerCallTable([{ uuid }, { uuid }, { uuid }], { parallel: 3 });
    expect(par.map((x) => x.uuids)).toEqual([[uuid], [uuid], [uuid]]);
  });
});
