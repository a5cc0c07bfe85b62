// Domain jobs (libvirt's own: migration, save, dump) and block jobs (copy, commit, pull), as the
// native scan and job events report them. Pure translation of codes to names; the calls live on
// LibvirtConnection (scanJobs, watchJobEvents).
import type { NativeJobEvent, NativeJobScan } from '@vmpulse/libvirt-native';
import { jobTypeName } from './flags.js';
import type { JobType, StatParams } from './types.js';

/** virDomainBlockJobType */
type BlockJobKind = 'unknown' | 'pull' | 'copy' | 'commit' | 'active_commit' | 'backup';
const BLOCK_JOB_KINDS: readonly BlockJobKind[] = ['unknown', 'pull', 'copy', 'commit', 'active_commit', 'backup'];
const blockJobKind = (code: number): BlockJobKind => BLOCK_JOB_KINDS[code] ?? 'unknown';

/** virConnectDomainEventBlockJobStatus */
type BlockJobStatus = 'completed' | 'failed' | 'canceled' | 'ready' | 'unknown';
const BLOCK_JOB_STATUSES: readonly BlockJobStatus[] = ['completed', 'failed', 'canceled', 'ready'];
const blockJobStatus = (code: number): BlockJobStatus => BLOCK_JOB_STATUSES[code] ?? 'unknown';

interface BlockJobInfo {
  disk: string;
  kind: BlockJobKind;
  /** bytes/s limit (0 = none) */
  bandwidth: number;
  /** progress: cur of end (bytes for copy) */
  cur: bigint;
  end: bigint;
}

export interface JobScan {
  uuid: string;
  /** disk targets, when the scan read them */
  disks?: string[];
  /** the domain job (migration, save, dump), null when none runs */
  job: { type: JobType; params: StatParams } | null;
  blockJobs: BlockJobInfo[];
}

export function toJobScan(r: NativeJobScan): JobScan {
  return {
    uuid: r.uuid,
    ...(r.disks ? { disks: r.disks } : {}),
    job: r.jobType !== 0 && r.job ? { type: jobTypeName(r.jobType), params: r.job as StatParams } : null,
    blockJobs: r.blockJobs.map((b) => ({ disk: b.disk, kind: blockJobKind(b.type), bandwidth: b.bandwidth, cur: b.cur, end: b.end })),
  };
}

export type JobEvent =
  | { kind: 'blockJob'; uuid: string; name: string; disk: string; blockJob: BlockJobKind; status: BlockJobStatus }
  | { kind: 'migrationIteration'; uuid: string; name: string; iteration: number }
  | { kind: 'jobCompleted'; uuid: string; name: string; params: StatParams };

export function toJobEvent(e: NativeJobEvent): JobEvent {
  if (e.kind === 'blockJob') return { kind: 'blockJob', uuid: e.uuid, name: e.name, disk: e.disk, blockJob: blockJobKind(e.type), status: blockJobStatus(e.status) };
  if (e.kind === 'migrationIteration') return e;
  return { kind: 'jobCompleted', uuid: e.uuid, name: e.name, params: e.params as StatParams };
}
