// Seed 004_81fa1c140e72e20a.txt: GET /api/v1/vm-contexts and /api/v1/vm-contexts/{vm_name}, exactly
// as the seed shows them (field names, JSON types, timestamps with offset), and the replicators'
// POSTs under /api/v1/ that vmpulse adds. Errors: {"error": "…", "timestamp": "…"}.
import { z } from 'zod';
import type { Principal } from '../../../lib/auth.js';
import { defineRoute, int64, isoTimestamp, type Route, type RouteFamily, timestampedErrors } from '../../../lib/rest.js';
import type { Services } from '../../../lib/module.js';
import { CbtInput, CompleteInput, ContextInput, FailInput, ProgressInput, StartJobInput } from '../inputs.js';
import type { CbtHistory, ContextDetail, JobFull, ReplicationJob, VmDisk, VmReplicationContext } from '../model.js';
import { seedTime, seedTimeOrNull } from '../seed-time.js';

// ---- schemas ------------------------------------------------------------------------------------

const ts = (d: string) => isoTimestamp(`${d}; ISO 8601 with the server's UTC offset`);
const nts = (d: string) => ts(d).nullable();
const int = (d: string) => z.number().int().describe(d);

const VmContext = z
  .strictObject({
    context_id: z.string().describe('unique VM context id'),
    vm_name: z.string().describe('VM name (unique)'),
    vmware_vm_id: z.string().describe('source VM id (VMware UUID, or libvirt domain UUID)'),
    vm_path: z.string(),
    vcenter_host: z.string().describe('source host (vCenter, or the libvirt host)'),
    datacenter: z.string(),
    current_status: z.string().describe('discovered, replicating, ready_for_failover, failed_over, completed, failed'),
    current_job_id: z.string().nullable().describe('the running job, if any'),
    total_jobs_run: int('jobs started'),
    successful_jobs: int('jobs completed'),
    failed_jobs: int('jobs failed'),
    last_successful_job_id: z.string().nullable(),
    cpu_count: int('vCPUs'),
    memory_mb: int('memory, MB'),
    os_type: z.string(),
    power_state: z.string(),
    vm_tools_version: z.string(),
    created_at: ts('created'),
    updated_at: ts('last change'),
    first_job_at: nts('first job start'),
    last_job_at: nts('last job start'),
    last_status_change: nts('last change of current_status'),
  })
  .meta({ id: 'VmContext', description: 'Seed 004: a VM context (the master record)' });

const CurrentJob = z
  .strictObject({
    id: z.string(),
    vm_context_id: z.string(),
    source_vm_id: z.string(),
    source_vm_name: z.string(),
    status: z.string().describe('pending, replicating, completed, failed'),
    replication_type: z.string().describe('initial, incremental (replicators); live_migration, block_copy, save (libvirt jobs)'),
    progress_percent: z.number().describe('0–100, float'),
    current_operation: z.string(),
    bytes_transferred: int64('bytes transferred so far'),
    total_bytes: int64('bytes to transfer'),
    transfer_speed_bps: int64('bytes/s, smoothed by vmpulse over MIGRATION_THROUGHPUT_WINDOW'),
    error_message: z.string(),
    change_id: z.string(),
    previous_change_id: z.string(),
    nbd_export_name: z.string(),
    vma_sync_type: z.string(),
    vma_current_phase: z.string(),
    vma_throughput_mbps: z.number().describe('the same throughput in Mbit/s'),
    vma_eta_seconds: z.number().int().nullable().describe('seconds to completion at that throughput; null while unknown'),
    vma_last_poll_at: nts('last progress report'),
    created_at: ts('created (ms)'),
    updated_at: ts('last change (ms)'),
  })
  .meta({ id: 'ReplicationJobCurrent', description: 'Seed 004: the running job' });

const HistoryJob = z
  .strictObject({
    id: z.string(),
    status: z.string(),
    replication_type: z.string(),
    progress_percent: z.number().describe('0–100, float'),
    bytes_transferred: int64('bytes transferred'),
    total_bytes: int64('bytes to transfer'),
    created_at: ts('created (ms)'),
    completed_at: nts('finished (ms); null while running'),
  })
  .meta({ id: 'ReplicationJobHistory', description: 'Seed 004: a past job' });

const Disk = z
  .strictObject({
    id: z.number().int(),
    job_id: z.string(),
    vm_context_id: z.string(),
    disk_id: z.string(),
    vmdk_path: z.string(),
    size_gb: int('GB'),
    datastore: z.string(),
    unit_number: z.number().int(),
    label: z.string(),
    capacity_bytes: int64('bytes'),
    provisioning_type: z.string(),
    ossea_volume_id: z.number().int(),
    cpu_count: z.number().int(),
    memory_mb: z.number().int(),
    os_type: z.string(),
    vm_tools_version: z.string(),
    network_config: z.string().describe('JSON text'),
    display_name: z.string(),
    annotation: z.string(),
    power_state: z.string(),
    vmware_uuid: z.string(),
    disk_change_id: z.string(),
    sync_status: z.string().describe('pending, syncing, completed, failed'),
    sync_progress_percent: z.number().describe('0–100, float'),
    bytes_synced: int64('bytes'),
    created_at: ts('created (ms)'),
    updated_at: ts('last change (ms)'),
  })
  .meta({ id: 'VmDisk', description: 'Seed 004: a disk of the job' });

const Cbt = z
  .strictObject({
    id: z.number().int(),
    job_id: z.string(),
    vm_context_id: z.string(),
    disk_id: z.string(),
    change_id: z.string(),
    previous_change_id: z.string(),
    sync_type: z.string().describe('initial, incremental'),
    blocks_changed: z.number().int(),
    bytes_transferred: int64('bytes'),
    sync_duration_seconds: int('s'),
    sync_success: z.boolean(),
    created_at: ts('recorded (ms)'),
  })
  .meta({ id: 'CbtRecord', description: 'Seed 004: one changed-block-tracking sync' });

const VmContextList = z
  .strictObject({ count: z.number().int(), vm_contexts: z.array(VmContext) })
  .meta({ id: 'VmContextList', description: 'Seed 004: every VM context' });

const VmContextDetail = z
  .strictObject({
    context: VmContext,
    current_job: CurrentJob.nullable(),
    job_history: z.array(HistoryJob).describe('the 10 newest jobs other than the current one, newest first'),
    disks: z.array(Disk).describe("the current job's disks, else the newest job's"),
    cbt_history: z.array(Cbt).describe('the 20 newest CBT records, newest first'),
  })
  .meta({ id: 'VmContextDetail', description: 'Seed 004: one VM context in full' });

// ---- shaping ------------------------------------------------------------------------------------

function contextJson(c: VmReplicationContext): z.output<typeof VmContext> {
  return {
    context_id: c.context_id,
    vm_name: c.vm_name,
    vmware_vm_id: c.vmware_vm_id,
    vm_path: c.vm_path,
    vcenter_host: c.vcenter_host,
    datacenter: c.datacenter,
    current_status: c.current_status,
    current_job_id: c.current_job_id,
    total_jobs_run: c.total_jobs_run,
    successful_jobs: c.successful_jobs,
    failed_jobs: c.failed_jobs,
    last_successful_job_id: c.last_successful_job_id,
    cpu_count: c.cpu_count,
    memory_mb: c.memory_mb,
    os_type: c.os_type,
    power_state: c.power_state,
    vm_tools_version: c.vm_tools_version,
    created_at: seedTime(c.created_at, 's'),
    updated_at: seedTime(c.updated_at, 's'),
    first_job_at: seedTimeOrNull(c.first_job_at, 's'),
    last_job_at: seedTimeOrNull(c.last_job_at, 's'),
    last_status_change: seedTimeOrNull(c.last_status_change, 's'),
  };
}

const currentJobJson = (j: ReplicationJob): z.output<typeof CurrentJob> => ({
  id: j.id,
  vm_context_id: j.vm_context_id,
  source_vm_id: j.source_vm_id,
  source_vm_name: j.source_vm_name,
  status: j.status,
  replication_type: j.replication_type,
  progress_percent: j.progress_percent,
  current_operation: j.current_operation,
  bytes_transferred: j.bytes_transferred,
  total_bytes: j.total_bytes,
  transfer_speed_bps: j.transfer_speed_bps,
  error_message: j.error_message,
  change_id: j.change_id,
  previous_change_id: j.previous_change_id,
  nbd_export_name: j.nbd_export_name,
  vma_sync_type: j.vma_sync_type,
  vma_current_phase: j.vma_current_phase,
  vma_throughput_mbps: j.vma_throughput_mbps,
  vma_eta_seconds: j.vma_eta_seconds,
  vma_last_poll_at: seedTimeOrNull(j.vma_last_poll_at, 's'),
  created_at: seedTime(j.created_at, 'ms'),
  updated_at: seedTime(j.updated_at, 'ms'),
});

const historyJson = (j: ReplicationJob): z.output<typeof HistoryJob> => ({
  id: j.id,
  status: j.status,
  replication_type: j.replication_type,
  progress_percent: j.progress_percent,
  bytes_transferred: j.bytes_transferred,
  total_bytes: j.total_bytes,
  created_at: seedTime(j.created_at, 'ms'),
  completed_at: seedTimeOrNull(j.completed_at, 'ms'),
});

const diskJson = (d: VmDisk): z.output<typeof Disk> => ({
  id: d.id,
  job_id: d.job_id,
  vm_context_id: d.vm_context_id,
  disk_id: d.disk_id,
  vmdk_path: d.vmdk_path,
  size_gb: d.size_gb,
  datastore: d.datastore,
  unit_number: d.unit_number,
  label: d.label,
  capacity_bytes: d.capacity_bytes,
  provisioning_type: d.provisioning_type,
  ossea_volume_id: d.ossea_volume_id,
  cpu_count: d.cpu_count,
  memory_mb: d.memory_mb,
  os_type: d.os_type,
  vm_tools_version: d.vm_tools_version,
  network_config: d.network_config,
  display_name: d.display_name,
  annotation: d.annotation,
  power_state: d.power_state,
  vmware_uuid: d.vmware_uuid,
  disk_change_id: d.disk_change_id,
  sync_status: d.sync_status,
  sync_progress_percent: d.sync_progress_percent,
  bytes_synced: d.bytes_synced,
  created_at: seedTime(d.created_at, 'ms'),
  updated_at: seedTime(d.updated_at, 'ms'),
});

const cbtJson = (c: CbtHistory): z.output<typeof Cbt> => ({
  id: c.id,
  job_id: c.job_id,
  vm_context_id: c.vm_context_id,
  disk_id: c.disk_id,
  change_id: c.change_id,
  previous_change_id: c.previous_change_id,
  sync_type: c.sync_type,
  blocks_changed: c.blocks_changed,
  bytes_transferred: c.bytes_transferred,
  sync_duration_seconds: c.sync_duration_seconds,
  sync_success: c.sync_success,
  created_at: seedTime(c.created_at, 'ms'),
});

const detailJson = (d: ContextDetail): z.output<typeof VmContextDetail> => ({
  context: contextJson(d.context),
  current_job: d.current_job ? currentJobJson(d.current_job) : null,
  job_history: d.job_history.map(historyJson),
  disks: d.disks.map(diskJson),
  cbt_history: d.cbt_history.map(cbtJson),
});

/** What a POST about a job answers: the job as the seed's current_job, its disks and steps. */
const JobReport = z
  .strictObject({
    job: CurrentJob,
    disks: z.array(Disk),
    steps: z.array(
      z.strictObject({
        ordinal: z.number().int(),
        name: z.string(),
        state: z.string().describe('pending, running, completed, failed, skipped'),
        started_at: nts('step start (ms)'),
        finished_at: nts('step end (ms)'),
      }),
    ),
    completed_at: nts('when the job finished (ms)'),
  })
  .meta({ id: 'ReplicationJobReport', description: 'The job after the report' });

const jobReportJson = (j: JobFull): z.output<typeof JobReport> => ({
  job: currentJobJson(j),
  disks: j.disks.map(diskJson),
  steps: j.steps.map((s) => ({ ordinal: s.ordinal, name: s.name, state: s.state, started_at: seedTimeOrNull(s.started_at, 'ms'), finished_at: seedTimeOrNull(s.finished_at, 'ms') })),
  completed_at: seedTimeOrNull(j.completed_at, 'ms'),
});

// ---- routes -------------------------------------------------------------------------------------

const vmName = z.object({ vm_name: z.string().min(1).max(255).describe('the VM name') });

const REPORT_RULES =
  'Operator role. A refused report (unknown context or job, bytes above the total, progress going backwards, a job already finished) ' +
  'gets 4xx with the reason, changes nothing, and is kept in the job\'s event log.';

/**
 * A replicator's report: POST, operator role, REPORT_RULES (then `more`). The service checks the
 * body itself (GraphQL's mutations hand it the same reports); the route declares it and shapes the answer.
 */
function report<B extends z.ZodType, R extends z.ZodType>(
  path: string,
  summary: string,
  body: B,
  response: R,
  answer: (principal: Principal, body: z.output<B>) => Promise<z.output<R>>,
  more?: string,
): Route {
  // The erased route defineRoute would give: the generics above pair each body with its answer.
  return {
    method: 'POST',
    path,
    role: 'operator',
    summary,
    description: more ? `${REPORT_RULES} ${more}` : REPORT_RULES,
    schema: { body, response },
    handle: (req) => answer(req.principal, req.body as z.output<B>),
  };
}

export function vmContextRoutes(services: Pick<Services, 'migrations'>): RouteFamily {
  const { migrations } = services;
  return {
    prefix: '/api/v1',
    tag: 'migrations',
    description: 'Seed 004_81fa1c140e72e20a.txt: VM migration contexts (read), and the replicators\' reports (vmpulse\'s additions)',
    errors: timestampedErrors,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/v1/vm-contexts',
        role: 'viewer',
        summary: 'Every VM context',
        schema: { response: VmContextList },
        async handle({ principal }) {
          const list = await migrations.listContexts(principal);
          return { count: list.length, vm_contexts: list.map(contextJson) };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/v1/vm-contexts/:vm_name',
        role: 'viewer',
        summary: 'One VM context with its current job, job history, disks and CBT history',
        description: '404 `{"error": "VM context not found for: <name>"}` when there is none.',
        schema: { params: vmName, response: VmContextDetail },
        async handle({ principal, params }) {
          return detailJson(await migrations.detail(principal, params.vm_name));
        },
      }),
      report('/api/v1/vm-contexts', 'Create or update a VM context (idempotent by vm_name)', ContextInput, VmContext, async (p, b) => contextJson(await migrations.upsertContext(p, b))),
      report('/api/v1/replication-jobs', 'Start a replication job with its disks (idempotent by job_id)', StartJobInput, JobReport, async (p, b) => jobReportJson(await migrations.startJob(p, b))),
      report('/api/v1/replication-jobs/progress', 'Report a job\'s progress (bytes, operation, phase, per-disk bytes)', ProgressInput, JobReport, async (p, b) => jobReportJson(await migrations.reportProgress(p, b)), 'vmpulse computes progress_percent, transfer_speed_bps, vma_throughput_mbps and vma_eta_seconds.'),
      report('/api/v1/replication-jobs/cbt', 'Record a CBT sync of a disk (idempotent by job_id, disk_id, change_id)', CbtInput, Cbt, async (p, b) => cbtJson(await migrations.recordCbt(p, b))),
      report('/api/v1/replication-jobs/complete', 'A job completed', CompleteInput, JobReport, async (p, b) => jobReportJson(await migrations.completeJob(p, b))),
      report('/api/v1/replication-jobs/fail', 'A job failed, with its error', FailInput, JobReport, async (p, b) => jobReportJson(await migrations.failJob(p, b))),
    ],
  };
}
