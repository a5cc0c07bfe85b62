// Reading the migration tables: contexts, jobs with their steps and disks, CBT history, event log.
// Writes live in service.ts (the only place that changes these rows and keeps the counters).
import type {
  CbtHistory,
  ReplicationJob,
  ReplicationJobEvent,
  ReplicationJobStep,
  VmDisk,
  VmReplicationContext,
} from '../../generated/prisma/client.js';
import type { PrismaClient } from '../../lib/db.js';

export type { CbtHistory, ReplicationJob, ReplicationJobEvent, ReplicationJobStep, VmDisk, VmReplicationContext };

export type JobFull = ReplicationJob & { steps: ReplicationJobStep[]; disks: VmDisk[] };

export interface ContextDetail {
  context: VmReplicationContext;
  current_job: JobFull | null;
  /** the 10 newest jobs other than the current one */
  job_history: ReplicationJob[];
  /** the current job's disks, else the newest job's */
  disks: VmDisk[];
  /** the 20 newest CBT records */
  cbt_history: CbtHistory[];
}

export const JOB_HISTORY_LIMIT = 10;
export const CBT_HISTORY_LIMIT = 20;

const withParts = {
  steps: { orderBy: { ordinal: 'asc' as const } },
  disks: { orderBy: [{ unit_number: 'asc' as const }, { id: 'asc' as const }] },
};

export function createMigrationModel(prisma: PrismaClient) {
  return {
    listContexts(): Promise<VmReplicationContext[]> {
      return prisma.vmReplicationContext.findMany({ orderBy: { vm_name: 'asc' } });
    },

    contextByName(vmName: string) {
      return prisma.vmReplicationContext.findUnique({ where: { vm_name: vmName } });
    },

    contextById(contextId: string) {
      return prisma.vmReplicationContext.findUnique({ where: { context_id: contextId } });
    },

    /** A context tied to a monitored VM: by host + uuid, else by name. */
    contextForVm(host: string, uuid: string, name: string) {
      return prisma.vmReplicationContext
        .findFirst({ where: { vcenter_host: host, vmware_vm_id: { equals: uuid, mode: 'insensitive' } } })
        .then((c) => c ?? prisma.vmReplicationContext.findUnique({ where: { vm_name: name } }));
    },

    job(id: string): Promise<JobFull | null> {
      return prisma.replicationJob.findUnique({ where: { id }, include: withParts });
    },

    jobs(contextId: string, limit: number, exceptId?: string | null): Promise<ReplicationJob[]> {
      return prisma.replicationJob.findMany({
        where: { vm_context_id: contextId, ...(exceptId ? { id: { not: exceptId } } : {}) },
        orderBy: [{ created_at: 'desc' }, { id: 'desc' }],
        take: limit,
      });
    },

    jobFullList(ids: string[]): Promise<JobFull[]> {
      return prisma.replicationJob.findMany({ where: { id: { in: ids } }, include: withParts });
    },

    disksOf(jobId: string): Promise<VmDisk[]> {
      return prisma.vmDisk.findMany({ where: { job_id: jobId }, orderBy: [{ unit_number: 'asc' }, { id: 'asc' }] });
    },

    cbt(contextId: string, limit: number): Promise<CbtHistory[]> {
      return prisma.cbtHistory.findMany({ where: { vm_context_id: contextId }, orderBy: [{ created_at: 'desc' }, { id: 'desc' }], take: limit });
    },

    events(jobId: string, limit: number): Promise<ReplicationJobEvent[]> {
      return prisma.replicationJobEvent.findMany({ where: { job_id: jobId }, orderBy: { id: 'desc' }, take: limit });
    },

    async detail(context: VmReplicationContext): Promise<ContextDetail> {
      const [current, history, cbt] = await Promise.all([
        context.current_job_id ? this.job(context.current_job_id) : Promise.resolve(null),
        this.jobs(context.context_id, JOB_HISTORY_LIMIT, context.current_job_id),
        this.cbt(context.context_id, CBT_HISTORY_LIMIT),
      ]);
      const diskJob = current?.id ?? history[0]?.id;
      const disks = current ? current.disks : diskJob ? await this.disksOf(diskJob) : [];
      return { context, current_job: current, job_history: history, disks, cbt_history: cbt };
    },
  };
}
