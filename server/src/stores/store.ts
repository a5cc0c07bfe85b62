// Where metric history lives. Two real backends: PostgreSQL (default) and InfluxDB 3.
import type { MetricName } from '../collector/metric-names.js';
import type { MetricSnapshot } from '../collector/snapshot.js';

/** Fields a history query can ask for: the seed metrics (raw values) and derived ones. */
export type HistoryField = MetricName | `${MetricName}_rate` | 'cpu_pct' | 'cpu_user_pct' | 'cpu_system_pct' | 'mem_pct';

export interface HistoryQuery {
  vmId: number;
  from: Date;
  to: Date;
  /** bucket width in seconds (>= 1) */
  stepSec: number;
  fields: HistoryField[];
}

/** One bucket: for each field its average, min and max over the bucket. Missing field = no data. */
export interface HistoryPoint {
  ts: Date;
  values: Partial<Record<HistoryField, { avg: number; min: number; max: number }>>;
}

export interface StoreStatus {
  backend: 'postgres' | 'influxdb3';
  /** snapshots written since start */
  written: number;
  /** write batches that failed (and, for buffered stores, are being retried) */
  failedWrites: number;
  /** lines/rows waiting in the buffer */
  bufferDepth: number;
  /** lines/rows dropped because the buffer was full or the server refused them for good */
  dropped: number;
  lastError: string | null;
  lastWriteMs: number | null;
}

export interface MetricStore {
  readonly backend: StoreStatus['backend'];
  /** One call per tick with every VM's snapshot; must not throw for a transient outage (buffer instead). */
  write(batch: MetricSnapshot[]): Promise<void>;
  /** Bounded by time, bucketed by step. */
  history(q: HistoryQuery): Promise<HistoryPoint[]>;
  /** Raw values of one field, newest first (seed 002's /history). */
  latestValues(vmId: number, field: HistoryField, limit: number, since: Date): Promise<{ ts: Date; value: number }[]>;
  status(): StoreStatus;
  /** Flush what is buffered (bounded wait) and release connections. */
  close(): Promise<void>;
}
