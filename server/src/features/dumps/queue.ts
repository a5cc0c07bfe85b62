// The dump jobs in PostgreSQL through pg-boss: a job per dump, DUMP_CONCURRENCY workers in this
// process (one job each at a time), no retries (a dump that failed is reported, not repeated).
import PgBoss from 'pg-boss';
import type { Logger } from '../../lib/logger.js';

const DUMP_QUEUE = 'memory-dump';

interface DumpJobData {
  dumpId: number;
}

export interface DumpQueue {
  start(handler: (data: DumpJobData) => Promise<void>): Promise<void>;
  /** queues one dump; resolves to the pg-boss job id */
  send(data: DumpJobData): Promise<string>;
  cancel(jobIds: string[]): Promise<void>;
  stop(): Promise<void>;
}

export function createDumpQueue(opts: { databaseUrl: string; concurrency: number; expireInSeconds: number; log: Logger }): DumpQueue {
  const { log } = opts;
  const boss = new PgBoss({ connectionString: opts.databaseUrl, max: Math.max(2, opts.concurrency + 1), application_name: 'vmpulse-dumps' });
  boss.on('error', (err) => log.error({ err }, 'pg-boss'));
  const workers: string[] = [];
  let started = false;
  return {
    async start(handler) {
      await boss.start();
      started = true;
      await boss.createQueue(DUMP_QUEUE, { name: DUMP_QUEUE, policy: 'standard', retryLimit: 0, expireInSeconds: opts.expireInSeconds });
      for (let i = 0; i < opts.concurrency; i++) {
        workers.push(
          await boss.work<DumpJobData>(DUMP_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
            if (job) await handler(job.data);
          }),
        );
      }
    },
    async send(data) {
      const id = await boss.send(DUMP_QUEUE, data, { retryLimit: 0, expireInSeconds: opts.expireInSeconds });
      if (!id) throw new Error('the job queue refused the dump job');
      // Wake an idle worker now rather than at its next poll.
      for (const w of workers) boss.notifyWorker(w);
      return id;
    },
    async cancel(jobIds) {
      if (jobIds.length) await boss.cancel(DUMP_QUEUE, jobIds);
    },
    async stop() {
      if (!started) return;
      started = false;
      // Not graceful: a dump still running is stopped by the service first; what pg-boss still
      // holds as active is cancelled at the next start.
      await boss.stop({ graceful: false, wait: true, timeout: 5000 });
    },
  };
}
