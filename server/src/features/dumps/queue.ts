// The dump jobs in PostgreSQL through pg-boss: one queue per host (`memory-dump-h<hostId>`), a job
// per dump, no retries (a dump that failed is reported, not repeated). Only the replica that owns
// a host works its queue (issue 10): the dumps service calls serve()/unserve() as host leases come
// and go, so a dump triggered on any replica runs where its VM's host is collected. Chosen over one
// shared queue whose workers skip foreign jobs: pg-boss cannot hand a fetched job back, and a
// queue per host keeps the routing in pg-boss itself. DUMP_CONCURRENCY is the process-wide limit:
// each served host gets that many workers, a gate lets that many dumps run at once here.
// Without leasing (one process) that process owns every host and serves each queue it sends to.
// Polling: pg-boss polls each worker's queue on its own (a fetch is an UPDATE … FOR UPDATE SKIP
// LOCKED, a write transaction even when it finds nothing). Per host that was a transaction every
// 2 s whatever the host did; so the workers here poll only every IDLE_POLL_S and one poller per
// replica asks, every POLL_MS, which of its served queues have a job ready (one read-only SELECT
// for all its hosts) and wakes those queues' workers. That SELECT runs as a prepared statement on
// a connection of its own: the job table has a partition per queue, and planning the query anew
// (pg-boss' executeSql) cost ~8 ms of PostgreSQL CPU at 50 queues, executing the cached plan ~0.8.
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from '../../lib/logger.js';

const queueOf = (hostId: number) => `memory-dump-h${hostId}`;
/** The one shared queue of versions before per-host queues: nobody works it any more. */
const LEGACY_QUEUE = 'memory-dump';
/** how often this replica looks for jobs sent elsewhere to the queues it serves */
const POLL_MS = 2000;
/** each worker's own polling: only a fallback, the poller wakes it */
const IDLE_POLL_S = 300;

/** A job an older version left in LEGACY_QUEUE: `waiting` never fetched; otherwise a worker of a process now gone had it. */
interface LegacyJob {
  jobId: string;
  dumpId: number;
  waiting: boolean;
}

interface DumpJobData {
  dumpId: number;
}

export interface DumpQueue {
  /** `claim` runs as soon as a worker here fetched a job, before it waits for a free slot; `handler` then runs the dump */
  start(handler: (data: DumpJobData) => Promise<void>, claim: (data: DumpJobData) => Promise<void>): Promise<void>;
  /** this replica owns the host: work its queue here (idempotent) */
  serve(hostId: number): Promise<void>;
  /** this replica gave the host up: take no more of its jobs (dumps already running go on) */
  unserve(hostId: number): Promise<void>;
  /** queues one dump on its host's queue; resolves to the pg-boss job id */
  send(hostId: number, data: DumpJobData): Promise<string>;
  cancel(hostId: number, jobIds: string[]): Promise<void>;
  /** the unfinished jobs older versions left in LEGACY_QUEUE (none when it does not exist) */
  legacyJobs(): Promise<LegacyJob[]>;
  /** drops LEGACY_QUEUE with whatever it still holds */
  dropLegacy(): Promise<void>;
  stop(): Promise<void>;
}

export function createDumpQueue(opts: { databaseUrl: string; concurrency: number; expireInSeconds: number; log: Logger }): DumpQueue {
  const { log } = opts;
  const boss = new PgBoss({ connectionString: opts.databaseUrl, max: Math.max(2, opts.concurrency + 1), application_name: 'vmpulse-dumps' });
  boss.on('error', (err) => log.error({ err }, 'pg-boss'));
  // Bounded waits: a PostgreSQL that is down or hung delays the next poll, never a stop.
  const pollDb = new pg.Pool({
    connectionString: opts.databaseUrl, max: 1, idleTimeoutMillis: 60_000, connectionTimeoutMillis: 3_000, query_timeout: 5_000, application_name: 'vmpulse-dumps-poll',
  });
  pollDb.on('error', (err) => log.warn({ err: err.message }, 'dump queue poll: idle PostgreSQL connection lost'));
  // A connection cut mid-query reports twice (the reset, then the end); the query already has the first.
  pollDb.on('connect', (client) => client.on('error', () => {}));
  /** hostId → worker ids working its queue here */
  const served = new Map<number, string[]>();
  const created = new Map<number, Promise<void>>();
  let handle: ((data: DumpJobData) => Promise<void>) | undefined;
  let claimJob: ((data: DumpJobData) => Promise<void>) | undefined;
  let started = false;
  let pollTimer: NodeJS.Timeout | undefined;
  // The process-wide gate: at most `concurrency` dumps at once, whatever the hosts.
  let runningNow = 0;
  const waiting: (() => void)[] = [];
  async function gated(fn: () => Promise<void>) {
    if (runningNow >= opts.concurrency) await new Promise<void>((r) => waiting.push(r));
    else runningNow++;
    try {
      await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else runningNow--;
    }
  }

  function ensureQueue(hostId: number): Promise<void> {
    let p = created.get(hostId);
    if (!p) {
      const name = queueOf(hostId);
      p = boss.createQueue(name, { name, policy: 'standard', retryLimit: 0, expireInSeconds: opts.expireInSeconds });
      p.catch(() => created.delete(hostId));
      created.set(hostId, p);
    }
    return p;
  }

  /** Wakes the workers of every served queue that has a job ready (jobs sent by other replicas). */
  async function pollServed() {
    const hostOf = new Map([...served.keys()].map((h) => [queueOf(h), h]));
    if (!hostOf.size) return;
    // pg-boss 10's job table (schema `pgboss`): the same conditions its own fetch uses.
    const { rows } = await pollDb.query<{ name: string }>({
      name: 'vmpulse-dump-poll',
      text: `SELECT DISTINCT name FROM pgboss.job WHERE name = ANY($1::text[]) AND state < 'active' AND start_after < now()`,
      values: [[...hostOf.keys()]],
    });
    for (const { name } of rows) {
      for (const w of served.get(hostOf.get(name)!) ?? []) boss.notifyWorker(w);
    }
  }
  function schedulePoll() {
    pollTimer = setTimeout(() => {
      pollServed()
        .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'dump queue poll failed'))
        .finally(() => {
          if (started) schedulePoll();
        });
    }, POLL_MS);
  }

  return {
    async start(handler, claim) {
      await boss.start();
      handle = handler;
      claimJob = claim;
      started = true;
      schedulePoll();
    },
    async serve(hostId) {
      if (!started || served.has(hostId)) return;
      served.set(hostId, []);
      await ensureQueue(hostId);
      const ids: string[] = [];
      for (let i = 0; i < opts.concurrency; i++) {
        ids.push(
          // Woken by the poller, a send here or a sibling that fetched a job (see the top).
          await boss.work<DumpJobData>(queueOf(hostId), { batchSize: 1, pollingIntervalSeconds: IDLE_POLL_S }, async ([job]) => {
            if (!job || !handle) return;
            for (const w of served.get(hostId) ?? []) boss.notifyWorker(w);
            await claimJob?.(job.data);
            await gated(() => handle!(job.data));
          }),
        );
      }
      if (served.has(hostId)) served.set(hostId, ids);
      else for (const id of ids) await boss.offWork({ id });
      log.info({ hostId }, 'dump queue served here');
    },
    async unserve(hostId) {
      const ids = served.get(hostId);
      if (!ids) return;
      served.delete(hostId);
      for (const id of ids) await boss.offWork({ id });
      log.info({ hostId }, 'dump queue no longer served here');
    },
    async send(hostId, data) {
      await ensureQueue(hostId);
      const id = await boss.send(queueOf(hostId), data, { retryLimit: 0, expireInSeconds: opts.expireInSeconds });
      if (!id) throw new Error('the job queue refused the dump job');
      // Wake an idle worker here now rather than at its next poll (the owner elsewhere polls every 2 s).
      for (const w of served.get(hostId) ?? []) boss.notifyWorker(w);
      return id;
    },
    async cancel(hostId, jobIds) {
      if (jobIds.length) await boss.cancel(queueOf(hostId), jobIds);
    },
    async legacyJobs() {
      if (!(await boss.getQueue(LEGACY_QUEUE))) return [];
      // pg-boss has no call that lists a queue's jobs: its job table (schema `pgboss`, pg-boss 10).
      const { rows } = await boss
        .getDb()
        .executeSql(`SELECT id, state::text AS state, data FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active') ORDER BY created_on`, [LEGACY_QUEUE]);
      return (rows as { id: string; state: string; data: Partial<DumpJobData> | null }[])
        .filter((r) => Number.isInteger(r.data?.dumpId))
        .map((r) => ({ jobId: r.id, dumpId: r.data!.dumpId!, waiting: r.state !== 'active' }));
    },
    async dropLegacy() {
      if (!(await boss.getQueue(LEGACY_QUEUE))) return;
      // pg-boss 10's deleteQueue fails while its job table still holds any job of the queue (a
      // RESTRICT foreign key), finished ones included: those go first.
      await boss.getDb().executeSql('DELETE FROM pgboss.job WHERE name = $1', [LEGACY_QUEUE]);
      await boss.deleteQueue(LEGACY_QUEUE);
    },
    async stop() {
      if (!started) return;
      started = false;
      clearTimeout(pollTimer);
      served.clear();
      // Not graceful: a dump still running is stopped by the service first; what pg-boss still
      // holds as active is cancelled when a replica marks the dump interrupted.
      await Promise.all([boss.stop({ graceful: false, wait: true, timeout: 5000 }), pollDb.end()]);
    },
  };
}
