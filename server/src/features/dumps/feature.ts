// Memory dumps (issue 8, seed 003): libvirt memory-only dumps streamed through SHA-256 and gzip,
// jobs in PostgreSQL (pg-boss), custody records, live progress, the seed's REST shims.
import path from 'node:path';
import type { Feature } from '../../lib/module.js';
import { createDumpQueue } from './queue.js';
import { createDumpRecords } from './records.js';
import { memoryDumpRoutes } from './rest/memory-dumps.js';
import { createDumpService, type DumpService, type DumpsTopics } from './service.js';
import './graphql/dump.js';

declare module '../../lib/module.js' {
  interface Services {
    dumps: DumpService;
  }
}

export const dumps: Feature = {
  name: 'dumps',
  create({ config, db, bus, log, services }) {
    const dumpDir = config.DUMP_DIR ?? path.join(config.DATA_DIR, 'dumps');
    const timeoutMs = config.DUMP_TIMEOUT * 1000;
    const queue = createDumpQueue({
      databaseUrl: db.url,
      concurrency: config.DUMP_CONCURRENCY,
      // pg-boss expires a job its worker never settled (a crash): after the dump's own timeout.
      expireInSeconds: Math.ceil(config.DUMP_TIMEOUT) + 120,
      log: log.child({ part: 'queue' }),
    });
    const dumps = createDumpService({
      records: createDumpRecords(db.prisma),
      queue,
      vms: services.vms,
      hosts: services.hosts,
      leases: services.hostLeases,
      distributed: bus.distributed,
      pubsub: bus.topics<DumpsTopics>(),
      log,
      opts: {
        dumpDir,
        remotePool: { name: config.DUMP_REMOTE_POOL, dir: config.DUMP_REMOTE_DIR },
        defaultFormat: config.DUMP_FORMAT,
        timeoutMs,
        minIntervalSec: config.DUMP_MIN_INTERVAL,
        retention: { count: config.DUMP_RETENTION_COUNT, gb: config.DUMP_RETENTION_GB, days: config.DUMP_RETENTION_DAYS },
        influx: { url: config.INFLUX_URL, database: config.INFLUX_DB, token: config.INFLUX_TOKEN },
      },
    });
    return {
      services: { dumps },
      rest: [memoryDumpRoutes(dumps)],
      start: () => dumps.start(),
      stop: () => dumps.stop(),
    };
  },
};

