// Migrations: seed 004's VM migration contexts, fed by replicators (GraphQL mutations and REST
// POSTs) and by the libvirt jobs vmpulse sees on monitored VMs, with live progress.
import type { Feature } from '../../lib/module.js';
import { vmContextRoutes } from './rest/vm-contexts.js';
import { createMigrationService, type MigrationService, type MigrationTopics } from './service.js';
import { createLibvirtJobSource, type LibvirtJobSource } from './sources/libvirt-jobs.js';
import './graphql/replication-job.js';
import './graphql/migration-context.js';

declare module '../../lib/module.js' {
  interface Services {
    migrations: MigrationService;
    /** libvirt jobs (migration, save, block copy) noticed on monitored VMs */
    libvirtJobs: LibvirtJobSource;
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
    const libvirtJobs = createLibvirtJobSource({
      hosts: services.hosts,
      vms: services.vms,
      migrations,
      log: log.child({ part: 'libvirt-jobs' }),
      scanMs: config.MIGRATION_SCAN_INTERVAL * 1000,
      pollMs: config.MIGRATION_JOB_POLL * 1000,
      owns: services.hostLeases.owns,
    });
    return {
      services: { migrations, libvirtJobs },
      rest: [vmContextRoutes({ migrations })],
      start: () => libvirtJobs.start(),
      stop: () => libvirtJobs.stop(),
    };
  },
};

