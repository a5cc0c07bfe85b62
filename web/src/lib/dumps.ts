// Memory dumps for people: progress text, sizes, and the live list of jobs kept from dumpJobUpdated.
import type { DumpJobFieldsFragment } from '../gql/graphql';
import { formatBytes, NA } from './format';

export type DumpJob = DumpJobFieldsFragment;

const ACTIVE = new Set(['queued', 'running']);

export function isActive(job: Pick<DumpJob, 'status'>): boolean {
  return ACTIVE.has(job.status);
}

/** Seconds as "45 s", "3 m 05 s", "1 h 02 m"; null → "—". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
}

/** raw / gzip as "3.4×"; null → N/A. */
export function formatRatio(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? NA : `${ratio.toFixed(1)}×`;
}

/** MB (10^6 bytes) per second, as the server computes it. */
function formatMbPerSec(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? NA : `${v.toFixed(1)} MB/s`;
}

/** One line under a progress bar: "42 % · 35.1 MB/s · ETA 3 s · 3.4× · 40.0 MB read". */
export function progressText(job: DumpJob): string {
  const p = job.progress;
  if (job.status === 'queued') return 'queued, waiting for a slot';
  const parts = [p.percent === null || p.percent === undefined ? 'starting' : `${Math.floor(p.percent)} %`];
  if (isActive(job)) {
    parts.push(formatMbPerSec(p.mbPerSec), `ETA ${formatDuration(p.etaSeconds)}`);
  } else if (job.durationSec !== null && job.durationSec !== undefined) {
    parts.push(`took ${formatDuration(job.durationSec)}`);
  }
  parts.push(`ratio ${formatRatio(p.compressionRatio)}`, `${formatBytes(p.rawBytes)} read`);
  return parts.join(' · ');
}

/** The job's file name as the server stores it (<vmid>_<unix>.mem.gz). */
export function fileName(job: Pick<DumpJob, 'path' | 'id'>): string {
  return job.path.split('/').pop() || `dump-${job.id}.mem.gz`;
}

/** Keeps the newest state of each job seen on the subscription (events may repeat or arrive after a refetch). */
export function mergeJob(jobs: Record<string, DumpJob>, job: DumpJob): Record<string, DumpJob> {
  return { ...jobs, [job.id]: job };
}

/** Jobs to show as progress bars: every running and queued one, then the `keepFinished` newest that ended while watching. */
export function progressRows(jobs: Record<string, DumpJob>, vmId?: string, keepFinished = 5): DumpJob[] {
  const newest = (a: DumpJob, b: DumpJob) => b.createdAt.localeCompare(a.createdAt) || Number(b.id) - Number(a.id);
  const mine = Object.values(jobs).filter((j) => vmId === undefined || j.vmId === vmId);
  return [...mine.filter(isActive).sort(newest), ...mine.filter((j) => !isActive(j)).sort(newest).slice(0, keepFinished)];
}
