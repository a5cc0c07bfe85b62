// Metric history in PostgreSQL: raw rows per VM per tick, 1-minute and 1-hour rollups with
// min/avg/max, retention. Tables: VmSample, VmSampleMinute, VmSampleHour (prisma/schema.prisma).
//
// It talks to PostgreSQL through its own small `pg` pool on the same URL as Prisma, because the
// hot path is one prepared INSERT … SELECT FROM unnest(<57 typed arrays>) per tick, which is
// plain SQL with array parameters that Prisma's raw-query layer would only get in the way of.
//
// An outage never reaches the collector: write() queues the tick and returns; a retry loop with
// backoff writes the queue when PostgreSQL answers again (oldest first, several ticks per
// statement). The queue is bounded in ticks; what falls off is counted in `dropped`.
import pg from 'pg';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import type { Logger } from '../../../lib/logger.js';
import type { HistoryField, HistoryPoint } from '../../../domain/history.js';
import type { HistoryQuery, MetricStore, StoreStatus } from './store.js';
import { queryHistory, queryLatest } from './postgres-history.js';
import {
  CLOSE_GRACE_MS, DEFAULT_RETENTION, applyRetention, createRoller, loadMarks,
  type Retention, type RetentionResult, type RollupResult,
} from './postgres-rollup.js';
import { buildInsert, earliestTs } from './postgres-write.js';

export { DEFAULT_RETENTION, type Retention } from './postgres-rollup.js';

export interface PostgresStoreOptions {
  /** the app's Database (lib/db.ts) or anything with its URL */
  db: { url: string; prisma?: unknown };
  log: Logger;
  retention?: Partial<Retention>;
  /** ticks kept in memory while PostgreSQL is unreachable (default 600: 10 min at 1 s) */
  bufferTicks?: number;
  /** rollup timer period; 0 = no timer (tests call rollup() themselves). Default 60 s. */
  rollupEveryMs?: number;
  /** retention deletes run at most this often, after a rollup. Default 5 min. */
  retentionEveryMs?: number;
  poolSize?: number;
}

export interface PostgresMetricStore extends MetricStore {
  /** Rolls up closed minutes and hours up to `now`; runs retention when it is due. */
  rollup(now?: Date): Promise<RollupResult & { retention: RetentionResult | null }>;
  applyRetention(now?: Date): Promise<RetentionResult>;
  /** Waits until the queue is written or a write fails. */
  flush(): Promise<void>;
}

/** Rows after an outage go out in statements of at most this many rows. */
const MERGE_ROWS = 20_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
const CLOSE_WAIT_MS = 5_000;

// Bad data or a missing table will fail the same way forever: drop it rather than block the queue.
const isPermanent = (err: unknown) => /^(22|23|42)/.test(String((err as { code?: unknown })?.code ?? ''));
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err)) || String((err as { code?: unknown })?.code);

export function createPostgresStore(opts: PostgresStoreOptions): PostgresMetricStore {
  const { log } = opts;
  const retention: Retention = { ...DEFAULT_RETENTION, ...opts.retention };
  const bufferTicks = opts.bufferTicks ?? 600;
  const rollupEveryMs = opts.rollupEveryMs ?? 60_000;
  const retentionEveryMs = opts.retentionEveryMs ?? 300_000;

  const pool = new pg.Pool({
    connectionString: opts.db.url,
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: 3_000,
    // A hung server must not hold the queue forever; the retry loop takes over.
    query_timeout: 30_000,
    application_name: 'vmpulse-metrics',
  });
  // Idle clients see the server go away; without a listener that would crash the process.
  pool.on('error', (err) => log.warn({ err: messageOf(err) }, 'metric store: idle PostgreSQL connection lost'));

  const roller = createRoller(pool);
  const status: StoreStatus = {
    backend: 'postgres', written: 0, failedWrites: 0, bufferDepth: 0, dropped: 0, lastError: null, lastWriteMs: null,
  };
  const queue: MetricSnapshot[][] = [];
  let draining: Promise<void> | null = null;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = RETRY_MIN_MS;
  let closed = false;

  const trimQueue = () => {
    while (queue.length > bufferTicks) status.dropped += queue.shift()?.length ?? 0;
    status.bufferDepth = queue.reduce((n, b) => n + b.length, 0);
  };

  async function drain(): Promise<void> {
    while (queue.length) {
      const take: MetricSnapshot[][] = [];
      let rows = 0;
      for (let next = queue[0]; next && (!take.length || rows + next.length <= MERGE_ROWS); next = queue[0]) {
        take.push(next);
        rows += next.length;
        queue.shift();
      }
      const batch = take.length === 1 ? (take[0] as MetricSnapshot[]) : take.flat();
      const t0 = performance.now();
      try {
        await pool.query(buildInsert(batch));
        status.lastWriteMs = performance.now() - t0;
        status.written += batch.length;
        retryMs = RETRY_MIN_MS;
        roller.noteWritten(earliestTs(batch));
      } catch (err) {
        status.failedWrites++;
        status.lastError = messageOf(err);
        if (isPermanent(err)) {
          status.dropped += batch.length;
          log.error({ err, rows: batch.length }, 'metric store: rows refused by PostgreSQL, dropped');
          continue;
        }
        queue.unshift(...take);
        trimQueue();
        log.warn({ err: status.lastError, buffered: status.bufferDepth, retryMs }, 'metric store: write failed, buffering');
        if (!closed) {
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            void flush();
          }, retryMs).unref();
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        }
        return;
      } finally {
        status.bufferDepth = queue.reduce((n, b) => n + b.length, 0);
      }
    }
  }

  function flush(): Promise<void> {
    draining ??= drain().finally(() => (draining = null));
    return draining;
  }

  let marksLoading: Promise<void> | null = null;
  function ensureMarks(now = Date.now()): Promise<void> {
    if (roller.marks) return Promise.resolve();
    marksLoading ??= loadMarks(pool, now, retention).then(
      (m) => {
        if (!roller.marks) roller.setMarks(m);
      },
      (err) => {
        marksLoading = null;
        throw err;
      },
    );
    return marksLoading;
  }

  let rolling: Promise<unknown> = Promise.resolve();
  let lastRetention = -Infinity;
  // One rollup at a time, in call order: two overlapping ones would fight over the marks.
  function rollup(now = new Date()): Promise<RollupResult & { retention: RetentionResult | null }> {
    const run = rolling.catch(() => {}).then(async () => {
      await ensureMarks(now.getTime());
      const result = await roller.rollup(now.getTime());
      let ret: RetentionResult | null = null;
      if (now.getTime() - lastRetention >= retentionEveryMs) {
        ret = await applyRetention(pool, now.getTime(), retention, roller.marks!);
        lastRetention = now.getTime();
      }
      return { ...result, retention: ret };
    });
    rolling = run;
    return run;
  }

  let rollupTimer: NodeJS.Timeout | undefined;
  function scheduleRollup() {
    if (closed || rollupEveryMs <= 0) return;
    // Just after a minute closes, so each run finds exactly the minutes that just ended.
    const now = Date.now();
    const next = Math.ceil((now + 1) / rollupEveryMs) * rollupEveryMs + CLOSE_GRACE_MS + 1_000;
    rollupTimer = setTimeout(() => {
      rollup()
        .then((r) => log.debug({ ...r }, 'metric rollup'))
        .catch((err: unknown) => log.warn({ err: messageOf(err) }, 'metric rollup failed; retrying next minute'))
        .finally(scheduleRollup);
    }, Math.max(next - now, 1_000)).unref();
  }
  scheduleRollup();

  return {
    backend: 'postgres',

    async write(batch: MetricSnapshot[]): Promise<void> {
      if (closed || !batch.length) return;
      queue.push(batch);
      trimQueue();
      // While a write is in flight or an outage is being retried, the tick just joins the queue:
      // a slow or absent database never holds up the collector beyond one statement.
      if (draining || retryTimer) return;
      await flush();
    },

    async history(q: HistoryQuery): Promise<HistoryPoint[]> {
      await ensureMarks().catch(() => {}); // unknown marks: read raw (see planSegments)
      return queryHistory(pool, q, roller.marks);
    },

    latestValues(vmId: number, field: HistoryField, limit: number, since: Date) {
      return queryLatest(pool, vmId, field, limit, since);
    },

    status: () => ({ ...status }),

    rollup,
    applyRetention: async (now = new Date()) => {
      await ensureMarks(now.getTime());
      return applyRetention(pool, now.getTime(), retention, roller.marks!);
    },
    flush,

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(rollupTimer);
      clearTimeout(retryTimer);
      retryTimer = undefined;
      const wait = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
      await Promise.race([flush().then(() => rolling.catch(() => {})), wait]);
      if (status.bufferDepth) {
        log.warn({ rows: status.bufferDepth }, 'metric store closed with unwritten rows');
        status.dropped += status.bufferDepth;
        queue.length = 0;
        status.bufferDepth = 0;
      }
      await pool.end().catch(() => {});
    },
  };
}
