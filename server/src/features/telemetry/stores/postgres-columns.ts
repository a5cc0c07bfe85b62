// Column layout of the metric-history tables (prisma/schema.prisma: VmSample, VmSampleMinute,
// VmSampleHour). Every identifier that reaches SQL text comes from these lists, never from a
// caller: history fields are checked against them first.
import { DERIVED_PCT_FIELDS, RATE_FIELDS, type HistoryField } from '../../../domain/history.js';
import { COUNTER_METRICS, GAUGE_METRICS, METRIC_NAMES } from '../../../domain/metrics.js';

export const RAW_TABLE = '"VmSample"';
export const MINUTE_TABLE = '"VmSampleMinute"';
export const HOUR_TABLE = '"VmSampleHour"';


/** Fields the rollups keep as min/avg/max: what charts draw. */
export const STAT_FIELDS: readonly string[] = [...DERIVED_PCT_FIELDS, ...RATE_FIELDS, ...GAUGE_METRICS];
/** Counters keep their last value per bucket (a counter's average means little). */
export const LAST_FIELDS: readonly string[] = COUNTER_METRICS;

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
  ...RATE_FIELDS.map((name) => ({ name, type: 'float8' })),
  ...DERIVED_PCT_FIELDS.map((name) => ({ name, type: 'float8' })),
];
