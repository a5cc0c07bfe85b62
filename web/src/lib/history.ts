// Chart points: one shape for live snapshots and stored history buckets, so the two join into one series.
import type { TimedPoint } from '../hooks/useFixedWindow';

export interface ChartPoint extends TimedPoint {
  cpu: number | null;
  cpuUser: number | null;
  cpuSystem: number | null;
  mem: number | null;
  rx: number | null;
  tx: number | null;
  rd: number | null;
  wr: number | null;
}

export const HISTORY_RANGES = ['15m', '1h', '6h', '24h', '7d'] as const;
export type HistoryRange = (typeof HISTORY_RANGES)[number];

const FIELD_TO_KEY: Record<string, keyof Omit<ChartPoint, 't'>> = {
  cpu_pct: 'cpu',
  cpu_user_pct: 'cpuUser',
  cpu_system_pct: 'cpuSystem',
  mem_pct: 'mem',
  net_rxbytes_rate: 'rx',
  net_txbytes_rate: 'tx',
  disk_rd_bytes_rate: 'rd',
  disk_wr_bytes_rate: 'wr',
};

const empty = (t: number): ChartPoint => ({ t, cpu: null, cpuUser: null, cpuSystem: null, mem: null, rx: null, tx: null, rd: null, wr: null });

export interface LiveSnapshot {
  timestamp: string;
  cpuPct?: number | null;
  cpuUserPct?: number | null;
  cpuSystemPct?: number | null;
  memPct?: number | null;
  netRxBps?: number | null;
  netTxBps?: number | null;
  diskReadBps?: number | null;
  diskWriteBps?: number | null;
}

export function snapshotToPoint(s: LiveSnapshot): ChartPoint {
  return {
    t: Date.parse(s.timestamp),
    cpu: s.cpuPct ?? null,
    cpuUser: s.cpuUserPct ?? null,
    cpuSystem: s.cpuSystemPct ?? null,
    mem: s.memPct ?? null,
    rx: s.netRxBps ?? null,
    tx: s.netTxBps ?? null,
    rd: s.diskReadBps ?? null,
    wr: s.diskWriteBps ?? null,
  };
}

export interface HistoryPointInput {
  timestamp: string;
  values: readonly { field: string; avg: number }[];
}

export function historyToPoints(points: readonly HistoryPointInput[]): ChartPoint[] {
  return points.map((p) => {
    const out = empty(Date.parse(p.timestamp));
    for (const v of p.values) {
      const key = FIELD_TO_KEY[v.field];
      if (key) out[key] = v.avg;
    }
    return out;
  });
}

/** Stored history followed by the live points newer than its last bucket. */
export function joinHistoryAndLive(history: readonly ChartPoint[], live: readonly ChartPoint[]): ChartPoint[] {
  const last = history[history.length - 1];
  if (!last) return [...live];
  return history.concat(live.filter((p) => p.t > last.t));
}
