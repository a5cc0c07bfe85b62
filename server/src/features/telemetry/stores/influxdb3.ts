// MetricStore on InfluxDB 3 (Core/Enterprise): each tick's snapshots become line protocol (the wide
// vmpulse_vm row, Telegraf's libvirt tables, closed rollup buckets), queued in a bounded retrying buffer and
// written to /api/v3/write_lp; history is read over the HTTP SQL API within Core's query file limit.
// Table layout: influxdb3-lines.ts, influxdb3-telegraf.ts, influxdb3-rollup.ts. Reads: influxdb3-history.ts.
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import type { Logger } from '../../../lib/logger.js';
import type { HistoryField } from '../../../domain/history.js';
import type { HistoryQuery, MetricStore, StoreStatus } from './store.js';
import { createHistoryReader } from './influxdb3-history.js';
import { isSnapshotLine, snapshotLines } from './influxdb3-lines.js';
import { createSqlClient } from './influxdb3-query.js';
import { Rollups } from './influxdb3-rollup.js';
import { WriteBuffer } from './influxdb3-write-buffer.js';
import { createLineWriter, redactor } from './influxdb3-writer.js';

export interface InfluxStoreOptions {
  url: string;
  database: string;
  token?: string;
  /** lines per write request (BATCH_MAX_LINES) */
  batchMaxLines: number;
  /** longest a line waits before a write is attempted, in seconds (BATCH_MAX_SEC) */
  batchMaxSec: number;
  log: Logger;
  /** bytes of line protocol per request (default 8 MiB, under Core's 10 MiB --max-http-request-size) */
  batchMaxBytes?: number;
  /** buffer bound in lines (plus the batch in flight); the oldest are dropped past it (default 200,000: ~15 ticks of 1,000 VMs) */
  maxBufferLines?: number;
  /** first retry delay, doubled per consecutive failure up to retryMaxMs (defaults 1 s, 30 s) */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** per HTTP request (default 10 s) */
  requestTimeoutMs?: number;
  /** how long close() waits for the buffer to drain (default 5 s) */
  closeTimeoutMs?: number;
  /** "now" for history planning (tests) */
  clock?: () => number;
}

/** Logs a problem once per distinct message (and again at most every minute), not once per batch. */
const REPEAT_LOG_MS = 60_000;

export function createInfluxStore(opts: InfluxStoreOptions): MetricStore {
  const log = opts.log.child({ store: 'influxdb3' });
  const redact = redactor(opts.token);
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  if (!Number.isSafeInteger(opts.batchMaxLines) || opts.batchMaxLines < 1) throw new Error('batchMaxLines must be an integer >= 1');
  if (!(opts.batchMaxSec >= 0)) throw new Error('batchMaxSec must be >= 0');

  const writer = createLineWriter({ url: opts.url, database: opts.database, token: opts.token, timeoutMs });
  const lastLogged = new Map<string, number>();
  const shouldLog = (message: string) => {
    const now = Date.now();
    const at = lastLogged.get(message);
    if (at !== undefined && now - at < REPEAT_LOG_MS) return false;
    if (lastLogged.size > 100) lastLogged.clear();
    lastLogged.set(message, now);
    return true;
  };
  const buffer = new WriteBuffer({
    send: writer.send,
    batchMaxLines: opts.batchMaxLines,
    batchMaxBytes: opts.batchMaxBytes ?? 8 * 1024 * 1024,
    batchMaxSec: opts.batchMaxSec,
    maxBufferLines: opts.maxBufferLines ?? 200_000,
    retryBaseMs: opts.retryBaseMs ?? 1_000,
    retryMaxMs: opts.retryMaxMs ?? 30_000,
    isSnapshotLine,
    events: {
      failed(error, depth, retryInMs) {
        if (shouldLog(error)) log.warn({ bufferDepth: depth, retryInMs }, redact(error));
      },
      rejected(error, count) {
        // Per-line errors differ by line number; the first 200 characters say what went wrong.
        if (shouldLog(error.replace(/\d+/g, '#').slice(0, 200))) log.error({ rejectedLines: count, totalRejected: buffer.rejectedLines }, redact(error));
      },
      recovered(afterFailures) {
        lastLogged.clear();
        log.info({ afterFailures, bufferDepth: buffer.depth }, 'InfluxDB writes recovered; flushing the buffer');
      },
      shrunk(error, maxBytes) {
        log.warn({ batchMaxBytes: maxBytes }, `${redact(error)}; sending smaller requests`);
      },
    },
  });
  const sql = createSqlClient({ url: opts.url, database: opts.database, token: opts.token, timeoutMs, redact });
  const reader = createHistoryReader(sql, opts.clock);
  const rollups = new Rollups();
  let closed = false;

  return {
    backend: 'influxdb3',
    // Telegraf's libvirt tables are libvirt's own fields (influxdb3-telegraf.ts).
    readsRawRecords: true,
    async write(batch: MetricSnapshot[]) {
      if (closed) return;
      const lines: string[] = [];
      let newest = 0;
      for (const snapshot of batch) {
        try {
          snapshotLines(snapshot, lines);
          if (!snapshot.stale) rollups.add(snapshot, lines);
          newest = Math.max(newest, snapshot.ts);
        } catch (err) {
          // One malformed snapshot must not cost the other VMs their history.
          log.error({ err, vmId: snapshot.vmId }, 'could not encode snapshot for InfluxDB');
        }
      }
      if (newest > 0) rollups.closeDue(newest, lines);
      buffer.enqueue(lines);
    },
    history: (q: HistoryQuery) => reader.history(q),
    latestValues: (vmId: number, field: HistoryField, limit: number, since: Date) => reader.latestValues(vmId, field, limit, since),
    status(): StoreStatus {
      return {
        backend: 'influxdb3',
        written: buffer.written,
        failedWrites: buffer.failedWrites,
        bufferDepth: buffer.depth,
        dropped: buffer.dropped,
        rejectedLines: buffer.rejectedLines,
        lastError: buffer.lastError === null ? null : redact(buffer.lastError),
        lastWriteMs: buffer.lastWriteMs,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      const open: string[] = [];
      rollups.flush(open);
      buffer.enqueue(open);
      const left = await buffer.drain(opts.closeTimeoutMs ?? 5_000);
      if (left > 0) log.warn({ droppedLines: left }, 'InfluxDB buffer not empty at close; lines dropped');
    },
  };
}
