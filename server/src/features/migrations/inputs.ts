// What replicators report, as zod schemas: the REST shims take them as bodies (and document them in
// /api/openapi.json), GraphQL maps its inputs onto them, and the service parses every report with
// them, so one set of rules holds whichever door a report comes through. Field names are seed 004's.
import { z } from 'zod';

const MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** A name or id a caller chooses: bounded, printable, no slash (it goes into URLs). */
const ident = (what: string, max = 255) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(max, `${what} is at most ${max} characters`)
    .regex(/^[^\p{Cc}/]*$/u, `${what} must not contain control characters or "/"`);
const text = (max = 1024) => z.string().max(max, `at most ${max} characters`).regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');
const bytes = (what: string) =>
  z
    .number({ error: `${what} must be a number of bytes` })
    .int(`${what} must be an integer`)
    .min(0, `${what} must not be negative`)
    .max(MAX_BYTES, `${what} is too large`);
const count = (what: string, max = 2_147_483_647) => z.number().int(`${what} must be an integer`).min(0, `${what} must not be negative`).max(max, `${what} is too large`);

export const ContextInput = z
  .strictObject({
    vm_name: ident('vm_name'),
    context_id: ident('context_id').optional().describe('the caller\'s id for the context; default ctx-<vm_name>-<yyyymmdd-hhmmss>'),
    vmware_vm_id: text(255).optional().describe('the source VM\'s id (VMware UUID or libvirt domain UUID)'),
    vm_path: text().optional(),
    vcenter_host: text(255).optional().describe('the source host (vCenter or libvirt host name)'),
    datacenter: text(255).optional(),
    cpu_count: count('cpu_count', 4096).optional(),
    memory_mb: count('memory_mb').optional(),
    os_type: text(255).optional(),
    power_state: text(64).optional(),
    vm_tools_version: text(64).optional(),
    replayed: z.boolean().optional().describe('set by `npm run replay`'),
  })
  .describe('Create or update a VM context (idempotent by vm_name; context_id, when given, must match). Counters and status are kept by vmpulse.');

export const DiskInput = z.strictObject({
  disk_id: ident('disk_id'),
  vmdk_path: text().optional(),
  size_gb: count('size_gb').optional(),
  datastore: text(255).optional(),
  unit_number: count('unit_number', 1024).optional(),
  label: text(255).optional(),
  capacity_bytes: bytes('capacity_bytes'),
  provisioning_type: text(64).optional(),
  ossea_volume_id: count('ossea_volume_id').optional(),
  network_config: text(65_536).optional().describe('JSON text, as seed 004 carries it'),
  display_name: text(255).optional(),
  annotation: text().optional(),
  vmware_uuid: text(255).optional(),
  disk_change_id: text(255).optional(),
});

export const StartJobInput = z
  .strictObject({
    vm_name: ident('vm_name'),
    job_id: ident('job_id').describe('the caller\'s job id: starting the same job again changes nothing'),
    replication_type: z.enum(['initial', 'incremental'], { error: 'replication_type must be initial or incremental' }),
    source_vm_id: text(255).optional(),
    nbd_export_name: text(255).optional(),
    vma_sync_type: text(64).optional().describe('e.g. full, incremental'),
    change_id: text(255).optional(),
    previous_change_id: text(255).optional(),
    total_bytes: bytes('total_bytes').optional().describe('default: the sum of the disks\' capacity_bytes'),
    steps: z.array(ident('step', 64)).min(1).max(16).optional().describe('the job\'s ordered step names; default by replication_type'),
    disks: z.array(DiskInput).min(1, 'a job needs at least one disk').max(64, 'at most 64 disks'),
    replayed: z.boolean().optional(),
  })
  .describe('Start a replication job with its disks');

export const ProgressInput = z
  .strictObject({
    job_id: ident('job_id'),
    bytes_transferred: bytes('bytes_transferred'),
    total_bytes: bytes('total_bytes').optional().describe('default: unchanged'),
    current_operation: text(255).optional(),
    phase: text(64).optional().describe('the current phase (vma_current_phase); a step name moves the job to that step'),
    disks: z
      .array(z.strictObject({ disk_id: ident('disk_id'), bytes_synced: bytes('bytes_synced') }))
      .max(64)
      .optional()
      .describe('per-disk bytes synced'),
  })
  .describe('A progress report. Bytes may not go backwards nor pass the total.');

export const CbtInput = z
  .strictObject({
    job_id: ident('job_id'),
    disk_id: ident('disk_id'),
    change_id: text(255),
    previous_change_id: text(255).optional(),
    sync_type: z.enum(['initial', 'incremental'], { error: 'sync_type must be initial or incremental' }),
    blocks_changed: count('blocks_changed'),
    bytes_transferred: bytes('bytes_transferred'),
    sync_duration_seconds: count('sync_duration_seconds'),
    sync_success: z.boolean(),
  })
  .describe('One changed-block-tracking sync of a disk (idempotent by job_id, disk_id, change_id)');

export const CompleteInput = z
  .strictObject({
    job_id: ident('job_id'),
    change_id: text(255).optional().describe('the change id the job ended at'),
    cutover: z.boolean().optional().describe('this job was the cutover: the context becomes failed_over'),
  })
  .describe('A job finished successfully (completing it again changes nothing)');

export const FailInput = z
  .strictObject({
    job_id: ident('job_id'),
    error_message: text(4096).min(1, 'error_message must not be empty'),
  })
  .describe('A job failed (failing it again changes nothing)');

export type ContextInput = z.output<typeof ContextInput>;
export type StartJobInput = z.output<typeof StartJobInput>;
export type ProgressInput = z.output<typeof ProgressInput>;
export type CbtInput = z.output<typeof CbtInput>;
export type CompleteInput = z.output<typeof CompleteInput>;
export type FailInput = z.output<typeof FailInput>;
export type DiskInput = z.output<typeof DiskInput>;
