// MetricStore on InfluxDB 3 (Core/Enterprise): writes line protocol through @influxdata/influxdb3-client
// behind a bounded retrying buffer, reads history over the HTTP SQL API. Table layout: influxdb3-lines.ts.
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import type { Logger } from '../../../lib/logger.js';
import type { HistoryField } from '../../../domain/history.js';
import type { HistoryQuery, MetricStore, StoreStatus } from './store.js';
import { isSnapshotLine, snapshotLines } from './influxdb3-lines.js';
import { createSqlClient, type FetchLike } from './influxdb3-query.js';
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
  /** for the SQL queries; the global fetch by default */
  fetchImpl?: FetchLike;
  /** buffer bound in lines; the oldest are dropped past it (default 200,000: ~20 ticks of 1,000 VMs) */
  maxBufferLines?: number;
  /** first retry delay, doubled per consecutive failure up to retryMaxMs (defaults 1 s, 30 s) */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** per HTTP request (default 10 s) */
  requestTimeoutMs?: number;
  /** how long close() waits for the buffer to drain (default 5 s) */
  closeTimeoutMs?: number;
}

/** Logs an outage once per distinct error (and again at most every minute), not once per retry. */
const REPEAT_LOG_MS = 60_000;

export function createInfluxStore(opts: InfluxStoreOptions): MetricStore {
  const log = opts.log.child({ store: 'influxdb3' });
  const redact = redactor(opts.token);
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  if (!Number.isSafeInteger(opts.batchMaxLines) || opts.batchMaxLines < 1) throw new Error('batchMaxLines must be an integer >= 1');
  if (!(opts.batchMaxSec >= 0)) throw new Error('batchMaxSec must be >= 0');

  const writer = createLineWriter({ url: opts.url, database: opts.database, token: opts.token, timeoutMs, log });
  let lastLogged = { error: '', at: 0 };
  const buffer = new WriteBuffer({
    send: writer.send,
    batchMaxLines: opts.batchMaxLines,
    batchMaxSec: opts.batchMaxSec,
    maxBufferLines: opts.maxBufferLines ?? 200_000,
    retryBaseMs: opts.retryBaseMs ?? 1_000,
    retryMaxMs: opts.retryMaxMs ?? 30_000,
    isSnapshotLine,
    events: {
      failed(error, depth, retryInMs) {
        const now = Date.now();
        if (error === lastLogged.error && now - lastLogged.at < REPEAT_LOG_MS) return;
        lastLogged = { error, at: now };
        log.warn({ bufferDepth: depth, retryInMs }, redact(error));
      },
      rejected(error, count) {
        log.error({ droppedLines: count }, redact(error));
      },
      recovered(afterFailures) {
        lastLogged = { error: '', at: 0 };
        log.info({ afterFailures, bufferDepth: buffer.depth }, 'InfluxDB writes recovered; flushing the buffer');
      },
    },
  });
  const sql = createSqlClient({
    url: opts.url, database: opts.database, token: opts.token, timeoutMs,
    fetchImpl: opts.fetchImpl ?? (globalThis.fetch as unknown as FetchLike), redact,
  });
  let closed = false;

  return {
    backend: 'influxdb3',
    async write(batch: MetricSnapshot[]) {
      if (closed) return;
      const lines: string[] = [];
      for (const snapshot of batch) {
        try {
          snapshotLines(snapshot, lines);
        } catch (err) {
          // One malformed snapshot must not cost the other VMs their history.
          log.error({ err, vmId: snapshot.vmId }, 'could not encode snapshot for InfluxDB');
        }
      }
      buffer.enqueue(lines);
    },
    history: (q: HistoryQuery) => sql.history(q),
    latestValues: (vmId: number, field: HistoryField, limit: number, since: Date) => sql.latestValues(vmId, field, limit, since),
    status(): StoreStatus {
      return {
        backend: 'influxdb3',
        written: buffer.written,
        failedWrites: buffer.failedWrites,
        bufferDepth: buffer.depth,
        dropped: buffer.dropped,
        lastError: buffer.lastError === null ? null : redact(buffer.lastError),
        lastWriteMs: buffer.lastWriteMs,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      const left = await buffer.drain(opts.closeTimeoutMs ?? 5_000);
      if (left > 0) log.warn({ droppedLines: left }, 'InfluxDB buffer not empty at close; lines dropped');
      await writer.close();
    },
  };
}
