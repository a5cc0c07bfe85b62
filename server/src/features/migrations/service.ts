// Migration contexts: the one service GraphQL, the REST shims, the replay tool (through the API) and
// the libvirt job source all call. It alone writes the migration tables, keeps every context's
// counters and status, computes throughput/ETA/convergence, logs every report (refused ones with
// why) in the job's event log, and is the only publisher of `migration:jobUpdated`.
import { filter, pipe } from 'graphql-yoga';
import type { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Principal } from '../../lib/auth.js';
import type { PrismaClient } from '../../lib/db.js';
import { AppError, badRequest, notFound } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { PubSub } from '../../lib/pubsub.js';
import { snapshotThen } from '../../lib/stream.js';
import type { Vm, VmService } from '../inventory/feature.js';
import {
  CbtInput,
  CompleteInput,
  ContextInput,
  FailInput,
  ProgressInput,
  StartJobInput,
  type DiskInput,
} from './inputs.js';
import { createMigrationModel, type ContextDetail, type JobFull, type VmReplicationContext } from './model.js';
import { convergence, type LiveSample, percent, type ProgressSample, SampleWindow, throughput, toMbps } from './progress.js';
import { DEFAULT_STEPS, enterStep, finishSteps, firstWorkStep, initialSteps, type JobType, type Step } from './steps.js';

/** What subscribers get: the context and the job as they are after the change. */
export interface JobUpdate {
  /** current (the first message), context, started, progress, cbt, completed, failed */
  event: string;
  context: VmReplicationContext;
  job: JobFull | null;
}

export type MigrationTopics = { 'migration:jobUpdated': [JobUpdate] };

/** Live-migration figures kept on the job (`live` column). */
export interface LiveStats {
  dataTotal: number;
  dataProcessed: number;
  remainingBytes: number;
  transferRateBps: number;
  dirtyRateBps: number;
  iteration: number;
  expectedDowntimeMs: number;
  converging: boolean;
  /** ISO time; null unless stalled */
  stalledSince: string | null;
}

/** A job libvirt runs, as the libvirt source reports it (internal door: no replicator validation of types). */
export interface LibvirtJobStart {
  vmName: string;
  host: string;
  uuid: string;
  jobId: string;
  type: Exclude<JobType, 'initial' | 'incremental'>;
  disks: DiskInput[];
  totalBytes: number;
  cpuCount?: number;
  memoryMb?: number;
  powerState?: string;
}

export interface LibvirtJobProgress {
  jobId: string;
  bytes: number;
  totalBytes: number;
  phase?: string;
  operation?: string;
  disks?: { disk_id: string; bytes_synced: number; capacity_bytes?: number }[];
  live?: Omit<LiveStats, 'converging' | 'stalledSince'>;
}

const FINISHED = new Set(['completed', 'failed']);
const SYSTEM: Principal = { role: 'admin', tokenId: null, name: 'vmpulse', scope: null };

type Tx = Prisma.TransactionClient;

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw badRequest(
    r.error.issues
      .slice(0, 5)
      .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
      .join('; '),
  );
}

const stamp = (d: Date) => `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}-${d.toISOString().slice(11, 19).replaceAll(':', '')}`;

/** the job id a report names, for the event log, even when the report is malformed */
const jobIdOf = (body: unknown) => {
  const id = (body as { job_id?: unknown } | null)?.job_id;
  return typeof id === 'string' ? id.slice(0, 255) : '';
};

/** Starts an async iterable's producer now (a pubsub subscription listens from its first next()). */
function listening<T>(src: AsyncIterable<T>): AsyncIterable<T> {
  const it = src[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | undefined = it.next();
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const f = first;
        first = undefined;
        return f ?? it.next();
      },
      return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true as const, value: undefined }),
    }),
  };
}

export interface MigrationServiceDeps {
  prisma: PrismaClient;
  pubsub: PubSub<MigrationTopics>;
  vms: VmService;
  log: Logger;
  windowMs: number;
  stallMs: number;
}

export function createMigrationService(deps: MigrationServiceDeps) {
  const { prisma, pubsub, vms, log, windowMs, stallMs } = deps;
  const model = createMigrationModel(prisma);
  /** recent progress of each running job, for throughput and convergence */
  const windows = new Map<string, SampleWindow<ProgressSample>>();
  const liveWindows = new Map<string, SampleWindow<LiveSample>>();

  /**
   * The one place this service finds a monitored VM for a caller: every VM lookup goes through it,
   * scoped by the caller's tenancy (inventory's vms.listFor): a VM outside the scope is not found.
   */
  function monitoredVm(principal: Principal, ref: { id?: number; host?: string; uuid?: string; name?: string }): Vm | undefined {
    if (ref.id !== undefined) {
      const vm = vms.get(ref.id);
      return vm && vms.owns(principal, vm) ? vm : undefined;
    }
    const all = vms.listFor(principal, { includeUndefined: true });
    if (ref.uuid) {
      const uuid = ref.uuid.toLowerCase();
      const hit = all.find((v) => v.uuid.toLowerCase() === uuid && (!ref.host || v.hostName === ref.host));
      if (hit) return hit;
    }
    if (ref.name) {
      const named = all.filter((v) => v.name === ref.name && v.present);
      if (named.length === 1) return named[0];
    }
    return undefined;
  }

  /**
   * Whether a caller sees a context: unscoped callers see all; a scoped one does not see a context
   * tied to a monitored VM outside its scope. A context of a VM vmpulse does not monitor (a
   * replicator's VMware VM) has no owner here and stays visible.
   */
  function visible(principal: Principal, ctx: VmReplicationContext): boolean {
    if (!principal.scope) return true;
    const ref = { host: ctx.vcenter_host, uuid: ctx.vmware_vm_id, name: ctx.vm_name };
    return monitoredVm(SYSTEM, ref) === undefined || monitoredVm(principal, ref) !== undefined;
  }

  async function publish(event: string, contextId: string, jobId: string | null, known?: JobFull) {
    const [context, job] = await Promise.all([model.contextById(contextId), known ?? (jobId ? model.job(jobId) : Promise.resolve(null))]);
    if (context) pubsub.publish('migration:jobUpdated', { event, context, job });
  }

  async function logEvent(e: { contextId: string | null; jobId: string; kind: string; accepted: boolean; message?: string; body?: unknown }, tx: Tx | PrismaClient = prisma) {
    await tx.replicationJobEvent.create({
      data: {
        vm_context_id: e.contextId,
        job_id: e.jobId,
        kind: e.kind,
        accepted: e.accepted,
        message: e.message ?? '',
        body: e.body === undefined ? undefined : (JSON.parse(JSON.stringify(e.body ?? null)) as Prisma.InputJsonValue),
      },
    });
  }

  /**
   * A scoped caller reports only on contexts it may see (its own VMs' and unmonitored ones): a
   * report naming a foreign VM's context, or a job of one, is refused as if neither existed (404),
   * changing nothing. Checked before the report runs: ownership is not database state.
   */
  async function assertMayReport(principal: Principal, body: unknown) {
    if (!principal.scope || typeof body !== 'object' || body === null) return;
    const b = body as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const vmName = str(b.vm_name);
    if (vmName !== undefined) {
      const ctx = await prisma.vmReplicationContext.findUnique({ where: { vm_name: vmName } });
      const target = ctx ?? ({ vm_name: vmName, vcenter_host: str(b.vcenter_host) ?? null, vmware_vm_id: str(b.vmware_vm_id) ?? null } as VmReplicationContext);
      if (!visible(principal, target)) throw notFound(`VM context not found for: ${vmName}`);
      return;
    }
    const jobId = jobIdOf(body);
    if (!jobId) return;
    const job = await prisma.replicationJob.findUnique({ where: { id: jobId }, select: { context: true } });
    if (job && !visible(principal, job.context)) throw notFound(`replication job ${JSON.stringify(jobId)} not found`);
  }

  /**
   * Runs one report: parse, change under a row lock, log, publish. A refused report (AppError)
   * changes nothing, is logged with its reason against the job it named, and is rethrown.
   */
  async function report<T>(
    principal: Principal,
    kind: string,
    body: unknown,
    run: () => Promise<{ result: T; contextId: string; jobId: string | null; event: string }>,
  ): Promise<T> {
    try {
      await assertMayReport(principal, body);
      const out = await run();
      const r = out.result as unknown as Partial<JobFull> | null;
      await publish(out.event, out.contextId, out.jobId, r && Array.isArray(r.steps) && r.id === out.jobId ? (r as JobFull) : undefined);
      return out.result;
    } catch (err) {
      if (err instanceof AppError) {
        const jobId = jobIdOf(body);
        const job = jobId ? await prisma.replicationJob.findUnique({ where: { id: jobId }, select: { vm_context_id: true } }) : null;
        await logEvent({ contextId: job?.vm_context_id ?? null, jobId, kind, accepted: false, message: err.message, body }).catch((e: unknown) =>
          log.warn({ err: String(e) }, 'could not log a refused migration report'),
        );
        log.info({ kind, job: jobId, reason: err.message }, 'migration report refused');
      }
      throw err;
    }
  }

  /** Locks a job for the rest of the transaction; unknown → 404, finished → 409 (unless `finishedOk`). */
  async function lockJob(tx: Tx, jobId: string) {
    await tx.$queryRaw`SELECT 1 FROM "replication_jobs" WHERE "id" = ${jobId} FOR UPDATE`;
    const job = await tx.replicationJob.findUnique({ where: { id: jobId }, include: { steps: { orderBy: { ordinal: 'asc' } }, disks: true } });
    if (!job) throw notFound(`replication job ${JSON.stringify(jobId)} not found`);
    return job;
  }

  async function saveSteps(tx: Tx, jobId: string, before: readonly Step[], after: readonly Step[]) {
    for (let i = 0; i < after.length; i++) {
      const a = after[i]!;
      const b = before[i];
      if (b && b.state === a.state && b.started_at?.getTime() === a.started_at?.getTime() && b.finished_at?.getTime() === a.finished_at?.getTime()) continue;
      await tx.replicationJobStep.update({
        where: { job_id_ordinal: { job_id: jobId, ordinal: a.ordinal } },
        data: { state: a.state, started_at: a.started_at, finished_at: a.finished_at },
      });
    }
  }

  const asSteps = (rows: { ordinal: number; name: string; state: string; started_at: Date | null; finished_at: Date | null }[]): Step[] =>
    rows.map((r) => ({ ...r, state: r.state as Step['state'] }));

  async function setStatus(tx: Tx, ctx: VmReplicationContext, now: Date, data: Prisma.VmReplicationContextUpdateInput) {
    const changed = data.current_status !== undefined && data.current_status !== ctx.current_status;
    await tx.vmReplicationContext.update({
      where: { context_id: ctx.context_id },
      data: { ...data, updated_at: now, ...(changed ? { last_status_change: now } : {}) },
    });
  }

  // ---- replicator reports ---------------------------------------------------------------------

  async function upsertContext(principal: Principal, body: unknown, internal: { source?: string } = {}): Promise<VmReplicationContext> {
    return report(principal, 'context', body, async () => {
      const input = parse(ContextInput, body);
      const { vm_name, context_id, replayed, ...fields } = input;
      const result = await prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vmctx:${vm_name}`}))`;
        const existing = await tx.vmReplicationContext.findUnique({ where: { vm_name } });
        if (existing) {
          if (context_id && context_id !== existing.context_id) {
            throw new AppError('CONFLICT', `VM ${JSON.stringify(vm_name)} already has context ${existing.context_id}, not ${context_id}`);
          }
          return tx.vmReplicationContext.update({ where: { context_id: existing.context_id }, data: { ...fields, updated_at: new Date() } });
        }
        const now = new Date();
        const id = context_id ?? `ctx-${vm_name}-${stamp(now)}`;
        if (await tx.vmReplicationContext.findUnique({ where: { context_id: id } })) {
          throw new AppError('CONFLICT', `context_id ${JSON.stringify(id)} belongs to another VM`);
        }
        return tx.vmReplicationContext.create({
          data: { ...fields, vm_name, context_id: id, replayed: replayed ?? false, source: internal.source ?? 'replicator', created_at: now, updated_at: now, last_status_change: now },
        });
      });
      return { result, contextId: result.context_id, jobId: result.current_job_id, event: 'context' };
    });
  }

  async function createJob(
    tx: Tx,
    ctx: VmReplicationContext,
    job: { id: string; type: JobType; totalBytes: number; source: string; replayed: boolean; steps?: readonly string[]; extra?: Partial<Prisma.ReplicationJobUncheckedCreateInput> },
    disks: DiskInput[],
    now: Date,
  ) {
    if (ctx.current_job_id) {
      const current = await tx.replicationJob.findUnique({ where: { id: ctx.current_job_id }, select: { status: true } });
      if (current && !FINISHED.has(current.status)) {
        throw new AppError('CONFLICT', `VM ${JSON.stringify(ctx.vm_name)} already has a running job ${ctx.current_job_id}: complete or fail it first`);
      }
    }
    const ids = new Set<string>();
    for (const d of disks) {
      if (ids.has(d.disk_id)) throw badRequest(`disk ${JSON.stringify(d.disk_id)} is listed twice`);
      ids.add(d.disk_id);
    }
    const steps = initialSteps(job.steps ?? DEFAULT_STEPS[job.type], now);
    await tx.replicationJob.create({
      data: {
        id: job.id,
        vm_context_id: ctx.context_id,
        source_vm_id: ctx.vmware_vm_id,
        source_vm_name: ctx.vm_name,
        status: 'replicating',
        replication_type: job.type,
        total_bytes: BigInt(job.totalBytes),
        current_operation: steps[0]!.name,
        vma_current_phase: steps[0]!.name,
        source: job.source,
        replayed: job.replayed,
        created_at: now,
        updated_at: now,
        ...job.extra,
        steps: { create: steps.map((s) => ({ ordinal: s.ordinal, name: s.name, state: s.state, started_at: s.started_at })) },
      },
    });
    await tx.vmDisk.createMany({
      data: disks.map((d) => ({
        ...d,
        capacity_bytes: BigInt(d.capacity_bytes),
        size_gb: d.size_gb ?? Math.round(d.capacity_bytes / 1024 ** 3),
        job_id: job.id,
        vm_context_id: ctx.context_id,
        cpu_count: ctx.cpu_count,
        memory_mb: ctx.memory_mb,
        os_type: ctx.os_type,
        vm_tools_version: ctx.vm_tools_version,
        power_state: ctx.power_state,
        vmware_uuid: d.vmware_uuid ?? ctx.vmware_vm_id,
        created_at: now,
        updated_at: now,
      })),
    });
    await setStatus(tx, ctx, now, {
      current_status: 'replicating',
      current_job_id: job.id,
      total_jobs_run: { increment: 1 },
      first_job_at: ctx.first_job_at ?? now,
      last_job_at: now,
    });
    windows.set(job.id, new SampleWindow(windowMs * 2));
  }

  async function startJob(principal: Principal, body: unknown): Promise<JobFull> {
    return report(principal, 'start', body, async () => {
      const input = parse(StartJobInput, body);
      const total = input.total_bytes ?? input.disks.reduce((s, d) => s + d.capacity_bytes, 0);
      const { created, contextId } = await prisma.$transaction(async (tx) => {
        const ctx = await tx.vmReplicationContext.findUnique({ where: { vm_name: input.vm_name } });
        if (!ctx) throw notFound(`VM context not found for: ${input.vm_name}`);
        await tx.$queryRaw`SELECT 1 FROM "vm_replication_contexts" WHERE "context_id" = ${ctx.context_id} FOR UPDATE`;
        const existing = await tx.replicationJob.findUnique({ where: { id: input.job_id }, select: { vm_context_id: true } });
        if (existing) {
          if (existing.vm_context_id !== ctx.context_id) throw new AppError('CONFLICT', `job ${JSON.stringify(input.job_id)} belongs to another VM context`);
          return { created: false, contextId: ctx.context_id }; // the same start again: nothing changes
        }
        const fresh = (await tx.vmReplicationContext.findUnique({ where: { context_id: ctx.context_id } }))!;
        await createJob(
          tx,
          fresh,
          {
            id: input.job_id,
            type: input.replication_type,
            totalBytes: total,
            source: 'replicator',
            replayed: input.replayed ?? fresh.replayed,
            steps: input.steps,
            extra: {
              source_vm_id: input.source_vm_id ?? fresh.vmware_vm_id,
              nbd_export_name: input.nbd_export_name ?? '',
              vma_sync_type: input.vma_sync_type ?? (input.replication_type === 'initial' ? 'full' : 'incremental'),
              change_id: input.change_id ?? '',
              previous_change_id: input.previous_change_id ?? '',
            },
          },
          input.disks,
          new Date(),
        );
        await logEvent({ contextId: ctx.context_id, jobId: input.job_id, kind: 'start', accepted: true, message: `${input.replication_type} job with ${input.disks.length} disk(s)` }, tx);
        return { created: true, contextId: ctx.context_id };
      });
      const job = (await model.job(input.job_id))!;
      return { result: job, contextId, jobId: job.id, event: created ? 'started' : 'current' };
    });
  }

  /** Applies a progress report inside a transaction; shared by replicators and the libvirt source. */
  async function applyProgress(tx: Tx, input: { job_id: string; bytes_transferred: number; total_bytes?: number; current_operation?: string; phase?: string; disks?: { disk_id: string; bytes_synced: number; capacity_bytes?: number }[] }, live: LibvirtJobProgress['live'] | undefined, now: Date) {
    const job = await lockJob(tx, input.job_id);
    if (FINISHED.has(job.status)) throw new AppError('CONFLICT', `job ${JSON.stringify(job.id)} is already ${job.status}: no more progress is accepted`);
    const total = input.total_bytes ?? Number(job.total_bytes);
    const prev = Number(job.bytes_transferred);
    if (input.bytes_transferred > total) throw badRequest(`bytes_transferred ${input.bytes_transferred} is above total_bytes ${total}`);
    // A live migration sends dirty memory again: its processed bytes only grow, but its total may.
    if (input.bytes_transferred < prev) throw new AppError('CONFLICT', `progress went backwards: bytes_transferred ${input.bytes_transferred} < ${prev} already reported`);
    const diskRows = new Map(job.disks.map((d) => [d.disk_id, d]));
    for (const d of input.disks ?? []) {
      const row = diskRows.get(d.disk_id);
      if (!row) throw notFound(`job ${JSON.stringify(job.id)} has no disk ${JSON.stringify(d.disk_id)}`);
      const cap = d.capacity_bytes ?? Number(row.capacity_bytes);
      if (d.bytes_synced > cap) throw badRequest(`disk ${d.disk_id}: bytes_synced ${d.bytes_synced} is above capacity_bytes ${cap}`);
      if (d.bytes_synced < Number(row.bytes_synced)) throw new AppError('CONFLICT', `disk ${d.disk_id}: progress went backwards: bytes_synced ${d.bytes_synced} < ${row.bytes_synced}`);
    }

    const win = windows.get(job.id) ?? new SampleWindow<ProgressSample>(windowMs * 2);
    windows.set(job.id, win);
    win.push({ t: now.getTime(), bytes: input.bytes_transferred });
    const rate = throughput(win.list(), total, windowMs);
    let liveStats: LiveStats | undefined;
    if (live) {
      const lw = liveWindows.get(job.id) ?? new SampleWindow<LiveSample>(Math.max(windowMs, stallMs) * 2);
      liveWindows.set(job.id, lw);
      lw.push({ t: now.getTime(), remaining: live.remainingBytes, processed: live.dataProcessed, dirtyRateBps: live.dirtyRateBps, transferRateBps: live.transferRateBps });
      const c = convergence(lw.list(), windowMs, stallMs)!;
      liveStats = { ...live, converging: c.converging, stalledSince: c.stalledSince === null ? null : new Date(c.stalledSince).toISOString() };
    }

    const steps = asSteps(job.steps);
    const phase = input.phase?.trim() || (steps.findIndex((s) => s.state === 'running') <= 0 ? firstWorkStep(steps) : '');
    const after = phase ? enterStep(steps, phase, now) : steps;
    await saveSteps(tx, job.id, steps, after);
    for (const d of input.disks ?? []) {
      const row = diskRows.get(d.disk_id)!;
      const cap = d.capacity_bytes ?? Number(row.capacity_bytes);
      await tx.vmDisk.update({
        where: { id: row.id },
        data: {
          bytes_synced: BigInt(d.bytes_synced),
          capacity_bytes: BigInt(cap),
          sync_progress_percent: percent(d.bytes_synced, cap),
          sync_status: d.bytes_synced >= cap && cap > 0 ? 'completed' : d.bytes_synced > 0 ? 'syncing' : row.sync_status,
          updated_at: now,
        },
      });
    }
    const running = after.find((s) => s.state === 'running');
    await tx.replicationJob.update({
      where: { id: job.id },
      data: {
        bytes_transferred: BigInt(input.bytes_transferred),
        total_bytes: BigInt(total),
        progress_percent: percent(input.bytes_transferred, total),
        transfer_speed_bps: BigInt(Math.round(rate.bytesPerSec)),
        vma_throughput_mbps: toMbps(rate.bytesPerSec),
        vma_eta_seconds: rate.etaSeconds,
        vma_last_poll_at: now,
        current_operation: input.current_operation ?? job.current_operation,
        vma_current_phase: input.phase ?? running?.name ?? job.vma_current_phase,
        ...(liveStats ? { live: liveStats as unknown as Prisma.InputJsonValue } : {}),
        updated_at: now,
      },
    });
    return job;
  }

  async function reportProgress(principal: Principal, body: unknown): Promise<JobFull> {
    return report(principal, 'progress', body, async () => {
      const input = parse(ProgressInput, body);
      // The context's updated_at stays: seed 004 moves it with the context's own changes, not with each progress report.
      const job = await prisma.$transaction((tx) => applyProgress(tx, input, undefined, new Date()));
      return { result: (await model.job(job.id))!, contextId: job.vm_context_id, jobId: job.id, event: 'progress' };
    });
  }

  async function recordCbt(principal: Principal, body: unknown) {
    return report(principal, 'cbt', body, async () => {
      const input = parse(CbtInput, body);
      const { row, contextId, created } = await prisma.$transaction(async (tx) => {
        const job = await lockJob(tx, input.job_id);
        const key = { job_id_disk_id_change_id: { job_id: job.id, disk_id: input.disk_id, change_id: input.change_id } };
        const existing = await tx.cbtHistory.findUnique({ where: key });
        if (existing) return { row: existing, contextId: job.vm_context_id, created: false };
        if (FINISHED.has(job.status)) throw new AppError('CONFLICT', `job ${JSON.stringify(job.id)} is already ${job.status}: no more CBT syncs are accepted`);
        if (!job.disks.some((d) => d.disk_id === input.disk_id)) throw notFound(`job ${JSON.stringify(job.id)} has no disk ${JSON.stringify(input.disk_id)}`);
        const row = await tx.cbtHistory.create({
          data: {
            ...input,
            previous_change_id: input.previous_change_id ?? '',
            bytes_transferred: BigInt(input.bytes_transferred),
            vm_context_id: job.vm_context_id,
          },
        });
        if (input.sync_success) {
          await tx.vmDisk.updateMany({ where: { job_id: job.id, disk_id: input.disk_id }, data: { disk_change_id: input.change_id, updated_at: new Date() } });
        }
        await logEvent({ contextId: job.vm_context_id, jobId: job.id, kind: 'cbt', accepted: true, message: `${input.disk_id} ${input.sync_type} ${input.sync_success ? 'ok' : 'failed'}` }, tx);
        return { row, contextId: job.vm_context_id, created: true };
      });
      return { result: row, contextId, jobId: input.job_id, event: created ? 'cbt' : 'current' };
    });
  }

  async function finish(kind: 'complete' | 'fail', ok: boolean, jobId: string, data: { error?: string; changeId?: string; cutover?: boolean }, body: unknown) {
    const now = new Date();
    const { job, changed } = await prisma.$transaction(async (tx) => {
      const job = await lockJob(tx, jobId);
      const want = ok ? 'completed' : 'failed';
      if (job.status === want) return { job, changed: false }; // the same report again
      if (FINISHED.has(job.status)) throw new AppError('CONFLICT', `job ${JSON.stringify(job.id)} is already ${job.status}; it cannot be ${want} now`);
      const steps = asSteps(job.steps);
      await saveSteps(tx, job.id, steps, finishSteps(steps, ok, now));
      await tx.replicationJob.update({
        where: { id: job.id },
        data: ok
          ? {
              status: 'completed',
              progress_percent: 100,
              bytes_transferred: job.total_bytes, // never below what was reported: reports cannot pass the total
              vma_eta_seconds: 0,
              current_operation: 'Completed',
              vma_current_phase: 'Completed',
              ...(data.changeId ? { change_id: data.changeId } : {}),
              completed_at: now,
              updated_at: now,
            }
          : { status: 'failed', error_message: data.error ?? '', current_operation: 'Failed', vma_eta_seconds: null, completed_at: now, updated_at: now },
      });
      if (ok) {
        await tx.vmDisk.updateMany({ where: { job_id: job.id }, data: { sync_status: 'completed', sync_progress_percent: 100, updated_at: now } });
        await tx.$executeRaw`UPDATE "vm_disks" SET "bytes_synced" = "capacity_bytes" WHERE "job_id" = ${job.id}`;
      } else {
        await tx.vmDisk.updateMany({ where: { job_id: job.id, sync_status: { not: 'completed' } }, data: { sync_status: 'failed', updated_at: now } });
      }
      const ctx = (await tx.vmReplicationContext.findUnique({ where: { context_id: job.vm_context_id } }))!;
      const isCurrent = ctx.current_job_id === job.id;
      const replication = job.replication_type === 'initial' || job.replication_type === 'incremental';
      const status = ok ? (data.cutover ? 'failed_over' : replication ? 'ready_for_failover' : 'completed') : 'failed';
      await setStatus(tx, ctx, now, {
        ...(isCurrent ? { current_status: status, current_job_id: null } : {}),
        ...(ok ? { successful_jobs: { increment: 1 }, last_successful_job_id: job.id } : { failed_jobs: { increment: 1 } }),
      });
      await logEvent({ contextId: job.vm_context_id, jobId: job.id, kind, accepted: true, message: ok ? (data.cutover ? 'completed (cutover)' : 'completed') : (data.error ?? ''), body }, tx);
      return { job, changed: true };
    });
    if (changed) {
      windows.delete(job.id);
      liveWindows.delete(job.id);
    }
    return { result: (await model.job(job.id))!, contextId: job.vm_context_id, jobId: job.id, event: changed ? (ok ? 'completed' : 'failed') : 'current' };
  }

  async function completeJob(principal: Principal, body: unknown): Promise<JobFull> {
    return report(principal, 'complete', body, () => {
      const input = parse(CompleteInput, body);
      return finish('complete', true, input.job_id, { changeId: input.change_id, cutover: input.cutover }, body);
    });
  }

  async function failJob(principal: Principal, body: unknown): Promise<JobFull> {
    return report(principal, 'fail', body, () => {
      const input = parse(FailInput, body);
      return finish('fail', false, input.job_id, { error: input.error_message }, body);
    });
  }

  // ---- libvirt jobs (internal door) -----------------------------------------------------------

  async function libvirtJobStarted(j: LibvirtJobStart): Promise<void> {
    const ctx0 =
      (await model.contextForVm(j.host, j.uuid, j.vmName)) ??
      (await upsertContext(
        SYSTEM,
        { vm_name: j.vmName, vmware_vm_id: j.uuid, vcenter_host: j.host, cpu_count: j.cpuCount, memory_mb: j.memoryMb, power_state: j.powerState },
        { source: 'libvirt' },
      ));
    const contextId = ctx0.context_id;
    const created = await prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM "vm_replication_contexts" WHERE "context_id" = ${contextId} FOR UPDATE`;
      if (await tx.replicationJob.findUnique({ where: { id: j.jobId }, select: { id: true } })) return false;
      const ctx = (await tx.vmReplicationContext.findUnique({ where: { context_id: contextId } }))!;
      // A job libvirt runs is a fact: a stale running job of this context (vmpulse was down when it ended) is closed first.
      if (ctx.current_job_id) {
        const cur = await tx.replicationJob.findUnique({ where: { id: ctx.current_job_id }, select: { status: true } });
        if (cur && !FINISHED.has(cur.status)) {
          await tx.replicationJob.update({ where: { id: ctx.current_job_id }, data: { status: 'failed', error_message: 'superseded by a newer libvirt job', completed_at: new Date() } });
          await tx.vmReplicationContext.update({ where: { context_id: contextId }, data: { failed_jobs: { increment: 1 } } });
        }
      }
      await createJob(tx, { ...ctx, current_job_id: null }, { id: j.jobId, type: j.type, totalBytes: j.totalBytes, source: 'libvirt', replayed: false }, j.disks, new Date());
      await logEvent({ contextId, jobId: j.jobId, kind: 'libvirt', accepted: true, message: `${j.type} seen on ${j.host}` }, tx);
      return true;
    });
    if (created) await publish('started', contextId, j.jobId);
  }

  async function libvirtJobProgress(p: LibvirtJobProgress): Promise<void> {
    const now = new Date();
    const job = await prisma.$transaction((tx) =>
      applyProgress(tx, { job_id: p.jobId, bytes_transferred: p.bytes, total_bytes: p.totalBytes, phase: p.phase, current_operation: p.operation, disks: p.disks }, p.live, now),
    );
    await publish('progress', job.vm_context_id, job.id);
  }

  async function libvirtJobEnded(jobId: string, ok: boolean, error?: string): Promise<void> {
    const out = await finish(ok ? 'complete' : 'fail', ok, jobId, { error: error ?? 'libvirt job failed' }, undefined);
    await publish(out.event, out.contextId, out.jobId);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Reads for the seed's endpoints: a database failure is the seed's 500, logged in full here. */
  async function guarded<T>(what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof AppError) throw err;
      log.error({ err }, `migration read failed: ${what}`);
      throw new AppError('INTERNAL', 'Failed to retrieve VM context');
    }
  }

  return {
    monitoredVm,
    upsertContext,
    startJob,
    reportProgress,
    recordCbt,
    completeJob,
    failJob,
    libvirtJobStarted,
    libvirtJobProgress,
    libvirtJobEnded,

    listContexts(principal: Principal): Promise<VmReplicationContext[]> {
      return guarded('list', async () => (await model.listContexts()).filter((c) => visible(principal, c)));
    },

    /** seed 004's detail; unknown name → 404 "VM context not found for: <name>" */
    detail(principal: Principal, vmName: string): Promise<ContextDetail> {
      return guarded('detail', async () => {
        const ctx = await model.contextByName(vmName);
        if (!ctx || !visible(principal, ctx)) throw notFound(`VM context not found for: ${vmName}`);
        return model.detail(ctx);
      });
    },

    async context(principal: Principal, vmName: string) {
      const ctx = await model.contextByName(vmName);
      return ctx && visible(principal, ctx) ? ctx : null;
    },

    /** The context of a monitored VM (host + uuid, else name), or null. */
    async contextOfVm(principal: Principal, vmId: number) {
      const vm = monitoredVm(principal, { id: vmId });
      if (!vm) return null;
      return model.contextForVm(vm.hostName, vm.uuid, vm.name);
    },

    /** The monitored VM a context is about, if any. */
    vmOfContext(principal: Principal, ctx: VmReplicationContext): Vm | undefined {
      return monitoredVm(principal, { host: ctx.vcenter_host, uuid: ctx.vmware_vm_id, name: ctx.vm_name });
    },

    model,

    /** Job updates of one context (by VM name) or all: the current state first, then every change in order. */
    async watch(principal: Principal, vmName?: string): Promise<AsyncIterable<JobUpdate>> {
      // Listening starts before the current state is read, so no change falls between the two.
      const all = listening(pipe(pubsub.subscribe('migration:jobUpdated'), filter((u: JobUpdate) => visible(principal, u.context))));
      if (vmName === undefined) {
        const contexts = (await model.listContexts()).filter((c) => visible(principal, c));
        const current = await model.jobFullList(contexts.flatMap((c) => (c.current_job_id ? [c.current_job_id] : [])));
        const byId = new Map(current.map((j) => [j.id, j]));
        const first = contexts.map((c) => ({ event: 'current', context: c, job: c.current_job_id ? (byId.get(c.current_job_id) ?? null) : null }));
        return snapshotThen(first, all);
      }
      const ctx = await model.contextByName(vmName);
      if (!ctx || !visible(principal, ctx)) throw notFound(`VM context not found for: ${vmName}`);
      const job = ctx.current_job_id ? await model.job(ctx.current_job_id) : (await model.jobs(ctx.context_id, 1))[0] ? await model.job((await model.jobs(ctx.context_id, 1))[0]!.id) : null;
      return snapshotThen([{ event: 'current', context: ctx, job }], pipe(all, filter((u) => u.context.context_id === ctx.context_id)));
    },
  };
}

export type MigrationService = ReturnType<typeof createMigrationService>;
