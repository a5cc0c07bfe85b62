import { describe, expect, it } from 'vitest';
import { historyToPoints, joinHistoryAndLive, snapshotToPoint } from '../history';

describe('history and live points', () => {
  it('maps stored fields onto chart keys and joins the live tail after the last bucket', () => {
    const stored = historyToPoints([
      { timestamp: '2026-01-01T00:00:00Z', values: [{ field: 'cpu_pct', avg: 10 }, { field: 'net_rxbytes_rate', avg: 100 }] },
      { timestamp: '2026-01-01T00:00:10Z', values: [{ field: 'cpu_pct', avg: 20 }, { field: 'unknown', avg: 1 }] },
    ]);
    expect(stored[0]).toMatchObject({ cpu: 10, rx: 100, mem: null });
    const live = [
      snapshotToPoint({ timestamp: '2026-01-01T00:00:05Z', cpuPct: 1 }),
      snapshotToPoint({ timestamp: '2026-01-01T00:00:11Z', cpuPct: 30 }),
    ];
    const joined = joinHistoryAndLive(stored, live);
    expect(joined.map((p) => p.cpu)).toEqual([10, 20, 30]);
    expect(joinHistoryAndLive([], live)).toEqual(live);
  });
});
