// MigrationContext: queries migrationContexts / migrationContext(vmName), Vm.migrationContext, the
// upsertMigrationContext mutation and the replicationJobUpdated subscription.
import { z } from 'zod';
import { builder } from '../../../graphql/builder.js';
import { VmRef } from '../../inventory/feature.js';
import { CBT_HISTORY_LIMIT, JOB_HISTORY_LIMIT, type VmReplicationContext } from '../model.js';
import type { JobUpdate } from '../service.js';
import { asDate, CbtRecordRef, MigrationDiskRef, ReplicationJobRef, toReport } from './replication-job.js';

const vmNameArg = z
  .string()
  .min(1, 'vmName must not be empty')
  .max(255, 'vmName is at most 255 characters')
  .regex(/^\P{Cc}*$/u, 'vmName must not contain control characters');

const MigrationContextRef = builder.objectRef<VmReplicationContext>('MigrationContext').implement({
  description: "A VM's migration context (seed 004 vm_replication_contexts): the master record of its jobs, disks and CBT history",
  fields: (t) => ({
    contextId: t.exposeString('context_id'),
    vmName: t.exposeString('vm_name'),
    sourceVmId: t.exposeString('vmware_vm_id', { description: 'vmware_vm_id: the source VM id (VMware or libvirt UUID)' }),
    vmPath: t.exposeString('vm_path'),
    sourceHost: t.exposeString('vcenter_host', { description: 'vcenter_host: vCenter, or the libvirt host' }),
    datacenter: t.exposeString('datacenter'),
    currentStatus: t.exposeString('current_status', { description: 'discovered, replicating, ready_for_failover, failed_over, completed, failed' }),
    currentJobId: t.exposeString('current_job_id', { nullable: true }),
    totalJobsRun: t.exposeInt('total_jobs_run'),
    successfulJobs: t.exposeInt('successful_jobs'),
    failedJobs: t.exposeInt('failed_jobs'),
    lastSuccessfulJobId: t.exposeString('last_successful_job_id', { nullable: true }),
    cpuCount: t.exposeInt('cpu_count'),
    memoryMb: t.exposeInt('memory_mb'),
    osType: t.exposeString('os_type'),
    powerState: t.exposeString('power_state'),
    vmToolsVersion: t.exposeString('vm_tools_version'),
    source: t.exposeString('source', { description: 'replicator (reported) or libvirt (seen by vmpulse)' }),
    replayed: t.exposeBoolean('replayed', { description: 'created by npm run replay' }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => asDate(c.created_at)! }),
    updatedAt: t.field({ type: 'DateTime', resolve: (c) => asDate(c.updated_at)! }),
    firstJobAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => asDate(c.first_job_at) }),
    lastJobAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => asDate(c.last_job_at) }),
    lastStatusChange: t.field({ type: 'DateTime', nullable: true, resolve: (c) => asDate(c.last_status_change) }),
    vm: t.field({
      type: VmRef,
      nullable: true,
      description: 'the monitored VM this context is about (host + uuid, else name), if any',
      resolve: (c, _a, ctx) => ctx.services.migrations.vmOfContext(ctx.principal, c) ?? null,
    }),
    currentJob: t.field({
      type: ReplicationJobRef,
      nullable: true,
      resolve: (c, _a, ctx) => (c.current_job_id ? ctx.services.migrations.model.job(c.current_job_id) : null),
    }),
    jobHistory: t.field({
      type: [ReplicationJobRef],
      description: `past jobs, newest first (the current one excluded); at most ${JOB_HISTORY_LIMIT} unless limit says otherwise`,
      args: { limit: t.arg.int({ required: false, defaultValue: JOB_HISTORY_LIMIT, validate: z.number().int().min(1).max(100) }) },
      complexity: ({ limit }) => ({ field: 1, multiplier: limit ?? JOB_HISTORY_LIMIT }),
      resolve: (c, { limit }, ctx) => ctx.services.migrations.model.jobs(c.context_id, limit ?? JOB_HISTORY_LIMIT, c.current_job_id),
    }),
    disks: t.field({
      type: [MigrationDiskRef],
      description: "the current job's disks, else the newest job's",
      complexity: { field: 1, multiplier: 4 },
      resolve: async (c, _a, ctx) => (await ctx.services.migrations.model.detail(c)).disks,
    }),
    cbtHistory: t.field({
      type: [CbtRecordRef],
      description: `CBT syncs, newest first; at most ${CBT_HISTORY_LIMIT} unless limit says otherwise`,
      args: { limit: t.arg.int({ required: false, defaultValue: CBT_HISTORY_LIMIT, validate: z.number().int().min(1).max(200) }) },
      complexity: ({ limit }) => ({ field: 1, multiplier: limit ?? CBT_HISTORY_LIMIT }),
      resolve: (c, { limit }, ctx) => ctx.services.migrations.model.cbt(c.context_id, limit ?? CBT_HISTORY_LIMIT),
    }),
  }),
});

const JobUpdateRef = builder.objectRef<JobUpdate>('ReplicationJobUpdate').implement({
  description: 'A change of a context or its job, with both as they are after it',
  fields: (t) => ({
    event: t.exposeString('event', { description: 'current (first message), context, started, progress, cbt, completed, failed' }),
    context: t.field({ type: MigrationContextRef, resolve: (u) => u.context }),
    job: t.field({ type: ReplicationJobRef, nullable: true, resolve: (u) => u.job }),
  }),
});

const ContextInputRef = builder.inputType('MigrationContextInput', {
  fields: (t) => ({
    vmName: t.string({ required: true }),
    contextId: t.string({ description: 'your id for it; default ctx-<vmName>-<yyyymmdd-hhmmss>' }),
    vmwareVmId: t.string({ description: 'the source VM id' }),
    vmPath: t.string(),
    vcenterHost: t.string({ description: 'the source host' }),
    datacenter: t.string(),
    cpuCount: t.int(),
    memoryMb: t.int(),
    osType: t.string(),
    powerState: t.string(),
    vmToolsVersion: t.string(),
    replayed: t.boolean(),
  }),
});

builder.queryFields((t) => ({
  migrationContexts: t.field({
    type: [MigrationContextRef],
    description: 'Every VM migration context, by VM name',
    complexity: { field: 1, multiplier: 50 },
    resolve: (_r, _a, ctx) => ctx.services.migrations.listContexts(ctx.principal),
  }),
  migrationContext: t.field({
    type: MigrationContextRef,
    nullable: true,
    description: 'One context by VM name; null when there is none',
    args: { vmName: t.arg.string({ required: true, validate: vmNameArg }) },
    resolve: (_r, { vmName }, ctx) => ctx.services.migrations.context(ctx.principal, vmName),
  }),
}));

builder.objectFields(VmRef, (t) => ({
  migrationContext: t.field({
    type: MigrationContextRef,
    nullable: true,
    description: 'the migration context tied to this VM (host + uuid, else name), if any',
    resolve: (vm, _a, ctx) => ctx.services.migrations.contextOfVm(ctx.principal, vm.id),
  }),
}));

builder.mutationFields((t) => ({
  upsertMigrationContext: t.field({
    type: MigrationContextRef,
    description: 'Create or update a context (operator). Idempotent by vmName; counters and status are kept by vmpulse.',
    args: { input: t.arg({ type: ContextInputRef, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.migrations.upsertContext(ctx.principal, toReport(input)),
  }),
}));

builder.subscriptionFields((t) => ({
  replicationJobUpdated: t.field({
    type: JobUpdateRef,
    description: 'Every change of one context (vmName) or of all: the current state first (one message per context), then each change in order',
    args: { vmName: t.arg.string({ required: false, validate: vmNameArg.optional() }) },
    subscribe: (_r, { vmName }, ctx) => ctx.services.migrations.watch(ctx.principal, vmName ?? undefined),
    resolve: (u) => u,
  }),
}));
