// Migrations: seed 004's VM migration contexts, fed by replicators (GraphQL mutations and REST
// POSTs) and by the libvirt jobs vmpulse sees on monitored VMs, with live progress.
import type { Feature } from '../../lib/module.js';
import { vmContextRoutes } from './rest/vm-contexts.js';
import { createMigrationService, type MigrationService, type MigrationTopics } from './service.js';
import './graphql/replication-job.js';
import './graphql/migration-context.js';

declare module '../../lib/module.js' {
  interface Services {
    migrations: MigrationService;
  }
}

export const migrations: Feature = {
  name: 'migrations',
  create({ config, db, bus, log, services }) {
    const migrations = createMigrationService({
      prisma: db.prisma,
      pubsub: bus.topics<MigrationTopics>(),
      vms: services.vms,
      log: log.child({ part: 'migrations' }),
      windowMs: config.MIGRATION_THROUGHPUT_WINDOW * 1000,
      stallMs: config.MIGRATION_STALL_AFTER * 1000,
    });
    return {
      services: { migrations },
      rest: [vmContextRoutes({ migrations })],
    };
  },
};

export type { MigrationService } from './service.js';
