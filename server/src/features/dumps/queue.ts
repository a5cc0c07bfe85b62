// The dump jobs in PostgreSQL through pg-boss: one queue per host (`memory-dump-h<hostId>`), a job
// per dump, no retries (a dump that failed is reported, not repeated). Only the replica that owns
// a host works its queue (issue 10): the dumps service calls serve()/unserve() as host leases come
// and go, so a dump triggered on any replica runs where its VM's host is collected. Chosen over one
// shared queue whose workers skip foreign jobs: pg-boss cannot hand a fetched job back, and a
// queue per host keeps the routing in pg-boss itself. DUMP_CONCURRENCY is the process-wide limit:
// each served host gets that many workers, a gate lets that many dumps run at once here.
// Without leasing (one process) that process owns every host and serves each queue it sends to.
import PgBoss from 'pg-boss';
import type { Logger } from '../../lib/logger.js';

const queueOf = (hostId: number) => `memory-dump-h${hostId}`;
/** The one shared queue of versions before per-host queues: nobody works it any more. */
const LEGACY_QUEUE = 'memory-dump';

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
  /** hostId → worker ids working its queue here */
  const served = new Map<number, string[]>();
  const created = new Map<number, Promise<void>>();
  let handle: ((data: DumpJobData) => Promise<void>) | undefined;
  let claimJob: ((data: DumpJobData) => Promise<void>) | undefined;
  let started = false;
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

  return {
    async start(handler, claim) {
      await boss.start();
      handle = handler;
      claimJob = claim;
      started = true;
    },
    async serve(hostId) {
      if (!started || served.has(hostId)) return;
      served.set(hostId, []);
      await ensureQueue(hostId);
      const ids: string[] = [];
      for (let i = 0; i < opts.concurrency; i++) {
        ids.push(
          // One worker per host polls (every 2 s); the others only look when woken (a send here, a
          // job fetched by a sibling): each poll is a query every host pays for every tick.
          await boss.work<DumpJobData>(queueOf(hostId), { batchSize: 1, pollingIntervalSeconds: i === 0 ? 2 : 30 }, async ([job]) => {
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
      served.clear();
      // Not graceful: a dump still running is stopped by the service first; what pg-boss still
      // holds as active is cancelled when a replica marks the dump interrupted.
      await boss.stop({ graceful: false, wait: true, timeout: 5000 });
    },
  };
}
