// History: the fields a query may name, the ranges the API offers, and the shape of an answer.
// Defined once; the stores, GraphQL, REST and the web app all read them from here.
import { COUNTER_METRICS, METRIC_NAMES, type CounterMetric, type MetricName } from './metrics.js';

export const DERIVED_PCT_FIELDS = ['cpu_pct', 'cpu_user_pct', 'cpu_system_pct', 'mem_pct'] as const;
export type RateField = `${CounterMetric}_rate`;
export const RATE_FIELDS: readonly RateField[] = COUNTER_METRICS.map((c) => `${c}_rate` as const);

/** Fields a history query can ask for: the seed metrics (raw values), counters' per-second rates, percentages. */
export type HistoryField = MetricName | RateField | (typeof DERIVED_PCT_FIELDS)[number];
export const HISTORY_FIELDS: readonly HistoryField[] = [...METRIC_NAMES, ...RATE_FIELDS, ...DERIVED_PCT_FIELDS];
const historyFieldSet: ReadonlySet<string> = new Set(HISTORY_FIELDS);
export const isHistoryField = (f: string): f is HistoryField => historyFieldSet.has(f);

/** What the dashboard draws when a query names no fields. */
export const DEFAULT_HISTORY_FIELDS: readonly HistoryField[] = [
  'cpu_pct', 'cpu_user_pct', 'cpu_system_pct', 'mem_pct', 'net_rxbytes_rate', 'net_txbytes_rate', 'disk_rd_bytes_rate', 'disk_wr_bytes_rate',
];

/** Named ranges, in seconds. */
export const HISTORY_RANGES = { '15m': 900, '1h': 3600, '6h': 21_600, '24h': 86_400, '7d': 604_800, '30d': 2_592_000 } as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;
export const HISTORY_RANGE_NAMES = Object.keys(HISTORY_RANGES) as HistoryRange[];
export const isHistoryRange = (r: string): r is HistoryRange => Object.hasOwn(HISTORY_RANGES, r);
/** Each range's name where a name may not start with a digit (the GraphQL enum HistoryRange). */
export const HISTORY_RANGE_ENUM_NAMES = {
  '15m': 'LAST_15_MINUTES',
  '1h': 'LAST_HOUR',
  '6h': 'LAST_6_HOURS',
  '24h': 'LAST_24_HOURS',
  '7d': 'LAST_7_DAYS',
  '30d': 'LAST_30_DAYS',
} as const satisfies Record<HistoryRange, string>;

/** The most buckets one history answer may hold. */
export const MAX_HISTORY_POINTS = 2000;
/** About how many buckets an answer holds when the query names no step. */
export const DEFAULT_HISTORY_POINTS = 300;

/** One bucket: for each field its average, min and max over the bucket. Missing field = no data. */
export interface HistoryPoint {
  ts: Date;
  values: Partial<Record<HistoryField, { avg: number; min: number; max: number }>>;
}
