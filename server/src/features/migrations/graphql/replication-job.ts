// ReplicationJob and its parts (steps, disks, CBT records, event log, live-migration figures), and
// the replicators' mutations. Mutations map their camelCase inputs onto the seed's snake_case report
// and hand it to the service, which validates it with the same rules as the REST shims.
import { z } from 'zod';
import { builder } from '../../../graphql/builder.js';
import type { CbtHistory, JobFull, ReplicationJob, ReplicationJobEvent, ReplicationJobStep, VmDisk } from '../model.js';
import type { LiveStats } from '../service.js';
import { DISK_STEP } from '../steps.js';

/** Rows may have crossed Redis (dates as strings): read them back as dates. */
export const asDate = (v: Date | string | null | undefined): Date | null => (v == null ? null : v instanceof Date ? v : new Date(v));
const big = (v: bigint | string | number) => BigInt(v);

export const MigrationDiskRef = builder.objectRef<VmDisk>('MigrationDisk').implement({
  description: 'A disk of a replication job, with its sync progress (seed 004 vm_disks)',
  fields: (t) => ({
    id: t.exposeInt('id'),
    jobId: t.exposeString('job_id'),
    diskId: t.exposeString('disk_id'),
    label: t.exposeString('label'),
    path: t.exposeString('vmdk_path', { description: 'vmdk_path: the disk image path (or libvirt target dev)' }),
    datastore: t.exposeString('datastore'),
    unitNumber: t.exposeInt('unit_number'),
    sizeGb: t.exposeInt('size_gb'),
    capacityBytes: t.field({ type: 'BigInt', resolve: (d) => big(d.capacity_bytes) }),
    provisioningType: t.exposeString('provisioning_type'),
    syncStatus: t.exposeString('sync_status', { description: 'pending, syncing, completed, failed' }),
    syncProgressPercent: t.exposeFloat('sync_progress_percent'),
    bytesSynced: t.field({ type: 'BigInt', resolve: (d) => big(d.bytes_synced) }),
    diskChangeId: t.exposeString('disk_change_id'),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => asDate(d.updated_at)! }),
  }),
});

export const CbtRecordRef = builder.objectRef<CbtHistory>('CbtRecord').implement({
  description: 'One changed-block-tracking sync of a disk (seed 004 cbt_history)',
  fields: (t) => ({
    id: t.exposeInt('id'),
    jobId: t.exposeString('job_id'),
    diskId: t.exposeString('disk_id'),
    changeId: t.exposeString('change_id'),
    previousChangeId: t.exposeString('previous_change_id'),
    syncType: t.exposeString('sync_type'),
    blocksChanged: t.exposeInt('blocks_changed'),
    bytesTransferred: t.field({ type: 'BigInt', resolve: (c) => big(c.bytes_transferred) }),
    syncDurationSeconds: t.exposeInt('sync_duration_seconds'),
    syncSuccess: t.exposeBoolean('sync_success'),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => asDate(c.created_at)! }),
  }),
});

const StepRef = builder.objectRef<ReplicationJobStep & { jobDisks: VmDisk[] }>('ReplicationJobStep').implement({
  description: 'One step of a job, in order',
  fields: (t) => ({
    ordinal: t.exposeInt('ordinal'),
    name: t.exposeString('name'),
    state: t.exposeString('state', { description: 'pending, running, completed, failed, skipped' }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => asDate(s.started_at) }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => asDate(s.finished_at) }),
    disks: t.field({
      type: [MigrationDiskRef],
      description: `per-disk progress: the job's disks on the "${DISK_STEP}" step, empty on the others`,
      resolve: (s) => (s.name === DISK_STEP ? s.jobDisks : []),
    }),
  }),
});

const LiveStatsRef = builder.objectRef<LiveStats>('LiveMigrationStats').implement({
  description: 'A live migration as libvirt reports it: dirty memory is sent again, so remaining bytes and convergence say more than a percent',
  fields: (t) => ({
    dataTotal: t.field({ type: 'BigInt', resolve: (l) => BigInt(Math.round(l.dataTotal)) }),
    dataProcessed: t.field({ type: 'BigInt', resolve: (l) => BigInt(Math.round(l.dataProcessed)) }),
    remainingBytes: t.field({ type: 'BigInt', resolve: (l) => BigInt(Math.round(l.remainingBytes)) }),
    transferRateBps: t.exposeFloat('transferRateBps', { description: 'bytes/s sent (memory_bps)' }),
    dirtyRateBps: t.exposeFloat('dirtyRateBps', { description: 'bytes/s the guest dirties' }),
    iteration: t.exposeInt('iteration'),
    expectedDowntimeMs: t.exposeInt('expectedDowntimeMs'),
    converging: t.exposeBoolean('converging', { description: 'false: dirtying at least as fast as sending, or remaining not shrinking' }),
    stalledSince: t.field({ type: 'DateTime', nullable: true, resolve: (l) => asDate(l.stalledSince) }),
  }),
});

const JobEventRef = builder.objectRef<ReplicationJobEvent>('ReplicationJobEvent').implement({
  description: 'A report about a job, accepted or refused (with why)',
  fields: (t) => ({
    id: t.field({ type: 'BigInt', resolve: (e) => big(e.id) }),
    jobId: t.exposeString('job_id'),
    kind: t.exposeString('kind', { description: 'context, start, progress, cbt, complete, fail, libvirt' }),
    accepted: t.exposeBoolean('accepted'),
    message: t.exposeString('message'),
    at: t.field({ type: 'DateTime', resolve: (e) => asDate(e.at)! }),
  }),
});

/** A job with its steps and disks when they were loaded with it; otherwise they are read on demand. */
export type JobLike = ReplicationJob & Partial<Pick<JobFull, 'steps' | 'disks'>>;

export const ReplicationJobRef = builder.objectRef<JobLike>('ReplicationJob').implement({
  description: 'A replication job (seed 004), or a libvirt job vmpulse saw on a monitored VM (live migration, block copy, save)',
  fields: (t) => ({
    id: t.exposeString('id'),
    contextId: t.exposeString('vm_context_id'),
    sourceVmId: t.exposeString('source_vm_id'),
    sourceVmName: t.exposeString('source_vm_name'),
    status: t.exposeString('status', { description: 'pending, replicating, completed, failed' }),
    replicationType: t.exposeString('replication_type', { description: 'initial, incremental, live_migration, block_copy, save' }),
    source: t.exposeString('source', { description: 'replicator or libvirt' }),
    replayed: t.exposeBoolean('replayed', { description: 'created by npm run replay' }),
    progressPercent: t.exposeFloat('progress_percent'),
    currentOperation: t.exposeString('current_operation'),
    currentPhase: t.exposeString('vma_current_phase'),
    bytesTransferred: t.field({ type: 'BigInt', resolve: (j) => big(j.bytes_transferred) }),
    totalBytes: t.field({ type: 'BigInt', resolve: (j) => big(j.total_bytes) }),
    transferSpeedBps: t.field({ type: 'BigInt', description: 'bytes/s, smoothed over MIGRATION_THROUGHPUT_WINDOW', resolve: (j) => big(j.transfer_speed_bps) }),
    throughputMbps: t.exposeFloat('vma_throughput_mbps', { description: 'the same, Mbit/s' }),
    etaSeconds: t.exposeInt('vma_eta_seconds', { nullable: true }),
    errorMessage: t.exposeString('error_message'),
    changeId: t.exposeString('change_id'),
    previousChangeId: t.exposeString('previous_change_id'),
    nbdExportName: t.exposeString('nbd_export_name'),
    syncType: t.exposeString('vma_sync_type'),
    lastProgressAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => asDate(j.vma_last_poll_at) }),
    createdAt: t.field({ type: 'DateTime', resolve: (j) => asDate(j.created_at)! }),
    updatedAt: t.field({ type: 'DateTime', resolve: (j) => asDate(j.updated_at)! }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => asDate(j.completed_at) }),
    live: t.field({ type: LiveStatsRef, nullable: true, description: 'live migrations only', resolve: (j) => (j.live as LiveStats | null) ?? null }),
    disks: t.field({
      type: [MigrationDiskRef],
      complexity: { field: 1, multiplier: 4 },
      resolve: async (j, _a, ctx) => j.disks ?? (await ctx.services.migrations.model.disksOf(j.id)),
    }),
    steps: t.field({
      type: [StepRef],
      complexity: { field: 1, multiplier: 5 },
      resolve: async (j, _a, ctx) => {
        const full = j.steps && j.disks ? (j as JobFull) : await ctx.services.migrations.model.job(j.id);
        return (full?.steps ?? []).map((s) => ({ ...s, jobDisks: full?.disks ?? [] }));
      },
    }),
    events: t.field({
      type: [JobEventRef],
      description: 'the job\'s event log, newest first',
      args: { limit: t.arg.int({ required: false, defaultValue: 20, validate: z.number().int().min(1).max(100) }) },
      complexity: ({ limit }) => ({ field: 1, multiplier: limit ?? 20 }),
      resolve: (j, { limit }, ctx) => ctx.services.migrations.model.events(j.id, limit ?? 20),
    }),
  }),
});

// ---- replicators' reports ----------------------------------------------------------------------

const DiskInputRef = builder.inputType('MigrationDiskInput', {
  fields: (t) => ({
    diskId: t.string({ required: true }),
    capacityBytes: t.field({ type: 'BigInt', required: true }),
    vmdkPath: t.string(),
    sizeGb: t.int(),
    datastore: t.string(),
    unitNumber: t.int(),
    label: t.string(),
    provisioningType: t.string(),
    osseaVolumeId: t.int(),
    networkConfig: t.string({ description: 'JSON text' }),
    displayName: t.string(),
    annotation: t.string(),
    vmwareUuid: t.string(),
    diskChangeId: t.string(),
  }),
});

const StartJobInputRef = builder.inputType('StartReplicationJobInput', {
  fields: (t) => ({
    vmName: t.string({ required: true }),
    jobId: t.string({ required: true, description: 'your id: starting the same job again changes nothing' }),
    replicationType: t.string({ required: true, description: 'initial or incremental' }),
    sourceVmId: t.string(),
    nbdExportName: t.string(),
    vmaSyncType: t.string({ description: 'e.g. full, incremental' }),
    changeId: t.string(),
    previousChangeId: t.string(),
    totalBytes: t.field({ type: 'BigInt', description: "default: the disks' capacity" }),
    steps: t.stringList({ description: 'ordered step names; default by type' }),
    disks: t.field({ type: [DiskInputRef], required: true }),
    replayed: t.boolean(),
  }),
});

const ProgressInputRef = builder.inputType('ReplicationProgressInput', {
  fields: (t) => ({
    jobId: t.string({ required: true }),
    bytesTransferred: t.field({ type: 'BigInt', required: true }),
    totalBytes: t.field({ type: 'BigInt' }),
    currentOperation: t.string(),
    phase: t.string({ description: 'a step name moves the job to that step' }),
    disks: t.field({ type: [builder.inputType('DiskProgressInput', { fields: (f) => ({ diskId: f.string({ required: true }), bytesSynced: f.field({ type: 'BigInt', required: true }) }) })] }),
  }),
});

const CbtInputRef = builder.inputType('CbtSyncInput', {
  fields: (t) => ({
    jobId: t.string({ required: true }),
    diskId: t.string({ required: true }),
    changeId: t.string({ required: true }),
    previousChangeId: t.string(),
    syncType: t.string({ required: true, description: 'initial or incremental' }),
    blocksChanged: t.int({ required: true }),
    bytesTransferred: t.field({ type: 'BigInt', required: true }),
    syncDurationSeconds: t.int({ required: true }),
    syncSuccess: t.boolean({ required: true }),
  }),
});

/** camelCase GraphQL input → the seed's snake_case report; BigInt → number (the service bounds it); nulls dropped. */
export function toReport(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toReport);
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.MAX_SAFE_INTEGER + 1;
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null || x === undefined) continue;
      out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = toReport(x);
    }
    return out;
  }
  return v;
}

builder.mutationFields((t) => ({
  startReplicationJob: t.field({
    type: ReplicationJobRef,
    description: 'Start a job with its disks (operator). Idempotent by jobId.',
    args: { input: t.arg({ type: StartJobInputRef, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.migrations.startJob(ctx.principal, toReport(input)),
  }),
  reportReplicationProgress: t.field({
    type: ReplicationJobRef,
    description: 'Report progress (operator). Refused: unknown job, bytes above total, backwards, job finished.',
    args: { input: t.arg({ type: ProgressInputRef, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.migrations.reportProgress(ctx.principal, toReport(input)),
  }),
  recordCbtSync: t.field({
    type: CbtRecordRef,
    description: 'Record a CBT sync of a disk (operator). Idempotent by jobId, diskId, changeId.',
    args: { input: t.arg({ type: CbtInputRef, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.migrations.recordCbt(ctx.principal, toReport(input)),
  }),
  completeReplicationJob: t.field({
    type: ReplicationJobRef,
    description: 'A job completed (operator). cutover: the context becomes failed_over.',
    args: { jobId: t.arg.string({ required: true }), changeId: t.arg.string(), cutover: t.arg.boolean() },
    resolve: (_r, args, ctx) => ctx.services.migrations.completeJob(ctx.principal, toReport(args)),
  }),
  failReplicationJob: t.field({
    type: ReplicationJobRef,
    description: 'A job failed (operator), with its error',
    args: { jobId: t.arg.string({ required: true }), errorMessage: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.migrations.failJob(ctx.principal, toReport(args)),
  }),
}));
