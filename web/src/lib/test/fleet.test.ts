import { describe, expect, it } from 'vitest';
import { filterFleet, fromCompact, NO_OWNER, ownerLabel, sortFleet, type FleetRow } from '../fleet';

const row = (name: string, cpuPct: number | null, extra: Partial<FleetRow> = {}): FleetRow => ({
  vmId: name,
  name,
  host: 'h1',
  state: cpuPct === null ? 'shutoff' : 'running',
  stale: false,
  cpuPct,
  ...extra,
});

describe('sortFleet', () => {
  const rows = [row('a', 10), row('b', null), row('c', 90), row('d', 50)];
  it('puts top consumers first, missing values last', () => {
    expect(sortFleet(rows, { key: 'cpu', dir: 'desc' }).map((r) => r.name)).toEqual(['c', 'd', 'a', 'b']);
    expect(sortFleet(rows, { key: 'cpu', dir: 'asc' }).map((r) => r.name)).toEqual(['a', 'd', 'c', 'b']);
  });
  it('sorts by name and sums rx + tx for network', () => {
    expect(sortFleet(rows, { key: 'name', dir: 'desc' }).map((r) => r.name)).toEqual(['d', 'c', 'b', 'a']);
    const net = [row('x', 1, { netRxBps: 10, netTxBps: 100 }), row('y', 1, { netRxBps: 50, netTxBps: 0 })];
    expect(sortFleet(net, { key: 'net', dir: 'desc' }).map((r) => r.name)).toEqual(['x', 'y']);
  });
  it('does not change its input', () => {
    const copy = [...rows];
    sortFleet(rows, { key: 'cpu', dir: 'desc' });
    expect(rows).toEqual(copy);
  });
});

describe('filterFleet', () => {
  const rows = [row('web-01', 1), row('db-01', 2, { host: 'h2' }), row('queue-01', null)];
  it('filters by name or host text, host and state', () => {
    expect(filterFleet(rows, { text: 'WEB', host: '', state: '' }).map((r) => r.name)).toEqual(['web-01']);
    expect(filterFleet(rows, { text: 'h2', host: '', state: '' }).map((r) => r.name)).toEqual(['db-01']);
    expect(filterFleet(rows, { text: '', host: 'h1', state: '' })).toHaveLength(2);
    expect(filterFleet(rows, { text: '', host: '', state: 'shutoff' }).map((r) => r.name)).toEqual(['queue-01']);
  });
});

describe('fromCompact', () => {
  it('turns the compact fleet message into rows keyed by column', () => {
    const rows = fromCompact(['vmId', 'name', 'state', 'cpuPct', 'stale'], [['7', 'db-01', 'running', 12.5, false], ['8', 'web-01', 'shutoff', null, false]]);
    expect(rows).toEqual([
      { vmId: '7', name: 'db-01', state: 'running', cpuPct: 12.5, stale: false },
      { vmId: '8', name: 'web-01', state: 'shutoff', cpuPct: null, stale: false },
    ]);
  });
});

describe('owners', () => {
  const rows = [
    row('web-01', 1, { ownerUser: 'alice', ownerGroup: 'engineering' }),
    row('db-01', 2, { ownerUser: 'bob', ownerGroup: 'finance' }),
    row('cache-01', 3, { ownerUser: null, ownerGroup: null }),
    row('app-01', 4, { ownerUser: null, ownerGroup: 'ops' }),
  ];
  it('labels an owner by user and group', () => {
    expect(rows.map(ownerLabel)).toEqual(['alice (engineering)', 'bob (finance)', '', '(ops)']);
  });
  it('filters by owner, or by no owner', () => {
    expect(filterFleet(rows, { text: '', host: '', state: '', owner: 'bob (finance)' }).map((r) => r.name)).toEqual(['db-01']);
    expect(filterFleet(rows, { text: '', host: '', state: '', owner: NO_OWNER }).map((r) => r.name)).toEqual(['cache-01']);
    expect(filterFleet(rows, { text: '', host: '', state: '', owner: '' })).toHaveLength(4);
  });
  it('sorts by owner, VMs without one last', () => {
    expect(sortFleet(rows, { key: 'owner', dir: 'asc' }).map((r) => r.name)).toEqual(['app-01', 'web-01', 'db-01', 'cache-01']);
  });
});
