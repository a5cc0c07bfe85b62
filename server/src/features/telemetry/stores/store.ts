// Where metric history lives. Two real backends: PostgreSQL (default) and InfluxDB 3.
import type { HistoryField, HistoryPoint } from '../../../domain/history.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';


export interface HistoryQuery {
  vmId: number;
  from: Date;
  to: Date;
  /** bucket width in seconds (>= 1) */
  stepSec: number;
  fields: HistoryField[];
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
  /** of `dropped`: lines the server refused for good (InfluxDB partial writes, limits); absent for stores without lines */
  rejectedLines?: number;
  lastError: string | null;
  lastWriteMs: number | null;
}

export interface MetricStore {
  readonly backend: StoreStatus['backend'];
  /** whether write() reads the snapshots' raw libvirt records (MetricSnapshot.libvirt) */
  readonly readsRawRecords: boolean;
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
