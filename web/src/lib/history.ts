// Chart points: one shape for live snapshots and stored history buckets, so the two join into one series.
import { HISTORY_RANGE_NAMES, HISTORY_RANGES, type HistoryField, type HistoryRange } from '@vmpulse/domain/history';
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

/** The ranges the range picker offers: the API's own (domain/history.ts), up to 7 days. */
export const PICKER_RANGES: readonly HistoryRange[] = HISTORY_RANGE_NAMES.filter((r) => HISTORY_RANGES[r] <= HISTORY_RANGES['7d']);

/** Which chart series each stored history field feeds (the fields the server answers by default). */
const FIELD_TO_KEY = {
  cpu_pct: 'cpu',
  cpu_user_pct: 'cpuUser',
  cpu_system_pct: 'cpuSystem',
  mem_pct: 'mem',
  net_rxbytes_rate: 'rx',
  net_txbytes_rate: 'tx',
  disk_rd_bytes_rate: 'rd',
  disk_wr_bytes_rate: 'wr',
} as const satisfies Partial<Record<HistoryField, keyof Omit<ChartPoint, 't'>>>;
const chartKeyOf = (field: string) => (Object.hasOwn(FIELD_TO_KEY, field) ? FIELD_TO_KEY[field as keyof typeof FIELD_TO_KEY] : undefined);

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
      const key = chartKeyOf(v.field);
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
