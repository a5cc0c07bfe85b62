// Column layout of the metric-history tables (prisma/schema.prisma: VmSample, VmSampleMinute,
// VmSampleHour). Every identifier that reaches SQL text comes from these lists, never from a
// caller: history fields are checked against them first.
import { COUNTER_METRICS, GAUGE_METRICS, METRIC_NAMES } from '../collector/metric-names.js';
import type { HistoryField } from './store.js';

export const RAW_TABLE = '"VmSample"';
export const MINUTE_TABLE = '"VmSampleMinute"';
export const HOUR_TABLE = '"VmSampleHour"';

export const DERIVED_PCT = ['cpu_pct', 'cpu_user_pct', 'cpu_system_pct', 'mem_pct'] as const;
export const RATE_COLUMNS = COUNTER_METRICS.map((c) => `${c}_rate` as const);

/** Fields the rollups keep as min/avg/max: what charts draw. */
export const STAT_FIELDS: readonly string[] = [...DERIVED_PCT, ...RATE_COLUMNS, ...GAUGE_METRICS];
/** Counters keep their last value per bucket (a counter's average means little). */
export const LAST_FIELDS: readonly string[] = COUNTER_METRICS;

export const HISTORY_FIELDS: ReadonlySet<HistoryField> = new Set<HistoryField>([
  ...METRIC_NAMES,
  ...RATE_COLUMNS,
  ...DERIVED_PCT,
]);

export const isHistoryField = (f: string): f is HistoryField => HISTORY_FIELDS.has(f as HistoryField);

export const q = (ident: string) => `"${ident}"`;

/**
 * How one history field reads from a table: expressions for avg, min and max (double precision).
 * Raw rows carry the value itself; rollup rows their aggregates, or a counter's last value.
 */
export function fieldExprs(field: HistoryField, tier: 'raw' | 'rollup'): [avg: string, min: string, max: string] {
  if (tier === 'raw') {
    const col = `${q(field)}::float8`;
    return [col, col, col];
  }
  if ((LAST_FIELDS as readonly string[]).includes(field)) {
    const col = `${q(`${field}_last`)}::float8`;
    return [col, col, col];
  }
  return [q(`${field}_avg`), q(`${field}_min`), q(`${field}_max`)];
}

/** Raw-table columns in insert order, with the PostgreSQL array type each is sent as. */
export const RAW_COLUMNS: readonly { name: string; type: string }[] = [
  { name: 'vmId', type: 'int4' },
  { name: 'ts', type: 'timestamptz' },
  { name: 'state', type: 'text' },
  { name: 'cpus', type: 'int4' },
  { name: 'stale', type: 'bool' },
  ...METRIC_NAMES.map((name) => ({ name, type: 'int8' })),
  ...RATE_COLUMNS.map((name) => ({ name, type: 'float8' })),
  ...DERIVED_PCT.map((name) => ({ name, type: 'float8' })),
];
