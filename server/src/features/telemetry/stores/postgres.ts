// Metric history in PostgreSQL, in blocks: each VM's samples of a minute are collected in memory
// and written as one encoded row when the minute is over (postgres-block.ts), with 1-minute and
// 1-hour rollups and retention (postgres-rollup.ts). ~35 bytes a VM-sample instead of ~480.
//
// What a crash costs: the open minute of each VM lives only in memory until its block is
// written, so a kill -9 loses at most the samples of the current minute (plus, during a
// PostgreSQL outage, the blocks still waiting for it). close() writes the open blocks.
//
// It talks to PostgreSQL through its own small `pg` pool on the same URL as Prisma: the hot
// path is one prepared INSERT of all closed blocks with their bytes in one binary parameter.
//
// An outage never reaches the collector: write() only appends to the open blocks; closed
// blocks wait in memory and a retry loop with backoff writes them when PostgreSQL answers
// again (oldest first). The wait is bounded in bytes; what falls off is counted in `dropped`.
import pg from 'pg';
import type { HistoryField, HistoryPoint } from '../../../domain/history.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import type { Logger } from '../../../lib/logger.js';
import { CHUNK, yieldToEventLoop } from '../../../lib/yield.js';
import { OpenBlock, type Columns, type Sample } from './postgres-block.js';
import { HOUR_TABLE, MINUTE_TABLE, RAW_TABLE } from './postgres-columns.js';
import { MINUTE_MS, floorTo } from '../../../lib/time.js';
import { encodeEntries } from './postgres-entries.js';
import { queryHistory, queryLatest } from './postgres-history.js';
import { convertLegacyHistory } from './postgres-legacy.js';
import {
  CLOSE_GRACE_MS, DEFAULT_RETENTION, applyRetention, createRoller, loadMarks,
  type Retention, type RetentionResult, type RollupResult,
} from './postgres-rollup.js';
import { buildBlockInsert, type BlockRow } from './postgres-write.js';
import type { HistoryQuery, MetricStore, StoreStatus } from './store.js';

export { DEFAULT_RETENTION } from './postgres-rollup.js';

export interface PostgresStoreOptions {
  /** the app's Database (lib/db.ts) or anything with its URL */
  db: { url: string; prisma?: unknown };
  log: Logger;
  retention?: Partial<Retention>;
  /** bytes of written-out blocks kept in memory while PostgreSQL is unreachable (default 64 MiB: ~25 min of 1,000 VMs at 1 s) */
  bufferBytes?: number;
  /** rollup timer period; 0 = no timer (tests call rollup() themselves). Default 60 s. */
  rollupEveryMs?: number;
  /** retention deletes run at most this often, after a rollup. Default 5 min. */
  retentionEveryMs?: number;
  poolSize?: number;
}

interface HistoryDiskUsage {
  /** heap + indexes + TOAST, bytes, per table */
  raw: number;
  minute: number;
  hour: number;
}

export interface PostgresMetricStore extends MetricStore {
  history(q: HistoryQuery, now?: number): Promise<HistoryPoint[]>;
  /** Rolls up closed hours (and days) up to `now`; runs retention when it is due. */
  rollup(now?: Date): Promise<RollupResult & { retention: RetentionResult | null }>;
  applyRetention(now?: Date): Promise<RetentionResult>;
  /** Writes every block whose minute is over by `now` (all of them with `now` = Infinity); waits until written or a write fails. */
  flush(now?: number): Promise<void>;
  diskUsage(): Promise<HistoryDiskUsage>;
}

/** Blocks after an outage go out in statements of at most this many bytes. */
const STATEMENT_BYTES = 16 << 20;
/** Blocks encoded between two event-loop yields (~0.3 ms each). */
const ENCODE_CHUNK = 10;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
const CLOSE_WAIT_MS = 5_000;

// Bad data or a missing table will fail the same way forever: drop it rather than block the queue.
const isPermanent = (err: unknown) => /^(22|23|42)/.test(String((err as { code?: unknown })?.code ?? ''));
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err)) || String((err as { code?: unknown })?.code);

interface ClosedBlock extends BlockRow {
  minute: number;
}

export function createPostgresStore(opts: PostgresStoreOptions): PostgresMetricStore {
  const { log } = opts;
  const retention: Retention = { ...DEFAULT_RETENTION, ...opts.retention };
  const bufferBytes = opts.bufferBytes ?? 64 << 20;
  const rollupEveryMs = opts.rollupEveryMs ?? 60_000;
  const retentionEveryMs = opts.retentionEveryMs ?? 300_000;

  const pool = new pg.Pool({
    connectionString: opts.db.url,
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: 3_000,
    // Blocks go out once a minute: with pg's default (10 s) every minute's INSERT would open a new
    // connection (a backend forked, SCRAM's key derivation on both sides) and drop it again.
    idleTimeoutMillis: 5 * 60_000,
    // A hung server must not hold the queue forever; the retry loop takes over.
    query_timeout: 30_000,
    application_name: 'vmpulse-metrics',
  });
  // Idle clients see the server go away; without a listener that would crash the process.
  pool.on('error', (err) => log.warn({ err: messageOf(err) }, 'metric store: idle PostgreSQL connection lost'));
  // A connection cut mid-query reports twice (the reset, then the end); the query already has the first.
  pool.on('connect', (client) => client.on('error', () => {}));

  const roller = createRoller(pool);
  const status: StoreStatus = {
    backend: 'postgres', written: 0, failedWrites: 0, bufferDepth: 0, dropped: 0, lastError: null, lastWriteMs: null,
  };
  /** the block each VM is filling */
  const open = new Map<number, OpenBlock>();
  /** each VM's last sample once its block is closed: the next block's first rates come from it */
  const lastSample = new Map<number, Sample>();
  /** closed, not yet encoded */
  const closing: OpenBlock[] = [];
  /** encoded blocks' columns, for the blocks of the next minute (at most one per open block) */
  const spares: Columns[] = [];
  /** encoded, not yet written */
  const pending: ClosedBlock[] = [];
  /** in the INSERT under way: still read from memory until it commits */
  let inFlight: ClosedBlock[] = [];
  let pendingBytes = 0;
  /** the newest sample time seen: blocks of VMs that fell silent close when it passes their minute */
  let clock = -Infinity;
  let draining: Promise<void> | null = null;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = RETRY_MIN_MS;
  let closed = false;

  function closeBlock(b: OpenBlock) {
    open.delete(b.vmId);
    if (b.last) lastSample.set(b.vmId, b.last);
    closing.push(b);
  }

  /** Closes the blocks whose minute ended before `t`. */
  function closeBefore(t: number) {
    for (const b of open.values()) if (b.minute + MINUTE_MS <= t) closeBlock(b);
  }

  function append(s: MetricSnapshot) {
    let b = open.get(s.vmId);
    if (b && s.ts === b.lastTs) return; // the same sample again: the first one stands
    if (b && (floorTo(s.ts, MINUTE_MS) !== b.minute || s.ts < b.lastTs)) {
      closeBlock(b);
      b = undefined;
    }
    if (!b) {
      b = new OpenBlock(s.vmId, s.ts, lastSample.get(s.vmId), spares.pop());
      open.set(s.vmId, b);
    }
    b.append(s);
    status.bufferDepth++;
  }

  const encode = (b: OpenBlock): ClosedBlock => ({
    vmId: b.vmId, ts: b.firstTs, minute: b.minute, samples: b.samples, data: b.encode(), summary: encodeEntries([b.summarise()]),
  });

  /** Over the bound, the oldest minute goes, for every VM alike: a gap, not a patchwork. */
  function dropOldest() {
    pending.sort((a, b) => a.minute - b.minute);
    while (pendingBytes > bufferBytes && pending.length) {
      const minute = pending[0]!.minute;
      while (pending[0]?.minute === minute) {
        const b = pending.shift()!;
        pendingBytes -= b.data.length + b.summary.length;
        status.dropped += b.samples;
        status.bufferDepth -= b.samples;
      }
    }
  }

  // Closed blocks are encoded as soon as they close, outage or not: the bound is on their bytes.
  let encoding: Promise<void> | null = null;
  function encodeClosed(): Promise<void> {
    encoding ??= (async () => {
      while (closing.length) {
        for (const b of closing.splice(0, ENCODE_CHUNK)) {
          const c = encode(b);
          if (spares.length < open.size) spares.push(b.release());
          pending.push(c);
          pendingBytes += c.data.length + c.summary.length;
        }
        if (closing.length) await yieldToEventLoop();
      }
      dropOldest();
    })().finally(() => (encoding = null));
    return encoding;
  }

  async function drain(): Promise<void> {
    while (closing.length || pending.length) {
      await encodeClosed();
      const take: ClosedBlock[] = [];
      let bytes = 0;
      while (pending.length && (!take.length || bytes + pending[0]!.data.length <= STATEMENT_BYTES)) {
        const b = pending.shift()!;
        take.push(b);
        bytes += b.data.length + b.summary.length;
      }
      if (!take.length) return;
      pendingBytes -= bytes;
      const samples = take.reduce((n, b) => n + b.samples, 0);
      const t0 = performance.now();
      inFlight = take;
      try {
        await pool.query(buildBlockInsert(RAW_TABLE, take, 'keep'));
        status.lastWriteMs = performance.now() - t0;
        status.written += samples;
        status.bufferDepth -= samples;
        retryMs = RETRY_MIN_MS;
        roller.noteWritten(Math.min(...take.map((b) => b.ts)));
      } catch (err) {
        status.failedWrites++;
        status.lastError = messageOf(err);
        if (isPermanent(err)) {
          status.dropped += samples;
          status.bufferDepth -= samples;
          log.error({ err, blocks: take.length }, 'metric store: blocks refused by PostgreSQL, dropped');
          continue;
        }
        pending.unshift(...take);
        pendingBytes += bytes;
        log.warn({ err: status.lastError, buffered: status.bufferDepth, retryMs }, 'metric store: write failed, buffering');
        if (!closed) {
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            void flushNow();
          }, retryMs).unref();
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        }
        return;
      } finally {
        inFlight = [];
      }
    }
  }

  function flushNow(): Promise<void> {
    draining ??= drain().finally(() => (draining = null));
    return draining;
  }

  async function flush(now = Infinity): Promise<void> {
    closeBefore(now - CLOSE_GRACE_MS);
    // a write in flight may have started before these closed: wait for it, then go again
    if (draining) await draining;
    await flushNow();
  }

  /** Samples not in PostgreSQL yet start here (the roller must not roll their hour). */
  function unwrittenFrom(): number {
    let t = Infinity;
    for (const b of open.values()) t = Math.min(t, b.minute);
    for (const b of closing) t = Math.min(t, b.minute);
    for (const b of [...pending, ...inFlight]) t = Math.min(t, b.minute);
    return t;
  }

  /** A VM's blocks not in PostgreSQL yet, for reads. */
  function unwritten(vmId: number): BlockRow[] {
    const out: BlockRow[] = [...inFlight, ...pending].filter((b) => b.vmId === vmId);
    for (const b of closing) if (b.vmId === vmId) out.push(encode(b));
    const o = open.get(vmId);
    if (o) out.push(encode(o));
    return out;
  }

  // The first start after the upgrade converts the row-per-sample tables; rollups wait for it.
  let conversionDone = false;
  const converted = convertLegacyHistory(pool, log, () => closed)
    .catch((err: unknown) => {
      log.error({ err: messageOf(err) }, 'metric store: converting the old history tables failed; retried at next start');
    })
    .finally(() => (conversionDone = true));

  let marksLoading: Promise<void> | null = null;
  function ensureMarks(now = Date.now()): Promise<void> {
    if (roller.marks) return Promise.resolve();
    marksLoading ??= converted
      .then(() => loadMarks(pool, now))
      .then(
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
      // Blocks of minutes that are over (a collector that stopped writes no next sample).
      await flush(now.getTime());
      await ensureMarks(now.getTime());
      const result = await roller.rollup(now.getTime(), unwrittenFrom());
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
    // Just after a minute closes: its blocks get written, and an hour that just ended gets rolled.
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
    readsRawRecords: false,

    async write(batch: MetricSnapshot[]): Promise<void> {
      if (closed || !batch.length) return;
      for (let i = 0; i < batch.length; i++) {
        if (i > 0 && i % CHUNK === 0) await yieldToEventLoop();
        const s = batch[i]!;
        append(s);
        if (s.ts > clock) clock = s.ts;
      }
      // A VM that fell silent (shut off, unreachable) has its block closed once the fleet's
      // clock passes its minute; one whose next sample is in a new minute closed it above.
      closeBefore(clock - CLOSE_GRACE_MS);
      // While a write is in flight or an outage is being retried, closed blocks just wait: a
      // slow or absent database never holds up the collector beyond one statement.
      if (!closing.length) return;
      if (draining || retryTimer) return encodeClosed();
      await flushNow();
    },

    async history(q: HistoryQuery, now = Date.now()): Promise<HistoryPoint[]> {
      // Unknown marks (a conversion still running, PostgreSQL away at start): summarise from raw blocks.
      if (conversionDone) await ensureMarks().catch(() => {});
      return queryHistory(pool, q, roller.marks, unwritten, now);
    },

    latestValues(vmId: number, field: HistoryField, limit: number, since: Date) {
      return queryLatest(pool, unwritten, vmId, field, limit, since);
    },

    status: () => ({ ...status }),

    rollup,
    applyRetention: async (now = new Date()) => {
      await ensureMarks(now.getTime());
      return applyRetention(pool, now.getTime(), retention, roller.marks!);
    },
    flush,

    async diskUsage() {
      const size = async (t: string) => Number((await pool.query(`SELECT pg_total_relation_size('${t}') AS n`)).rows[0].n);
      return { raw: await size(RAW_TABLE), minute: await size(MINUTE_TABLE), hour: await size(HOUR_TABLE) };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(rollupTimer);
      clearTimeout(retryTimer);
      retryTimer = undefined;
      const wait = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
      await Promise.race([rolling.catch(() => {}).then(() => flush(Infinity)), wait]);
      if (status.bufferDepth) {
        log.warn({ samples: status.bufferDepth }, 'metric store closed with unwritten samples');
        status.dropped += status.bufferDepth;
        open.clear();
        closing.length = 0;
        pending.length = 0;
        status.bufferDepth = 0;
      }
      await converted;
      await pool.end().catch(() => {});
    },
  };
}
