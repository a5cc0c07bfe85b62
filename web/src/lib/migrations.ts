// Migration contexts for people: job progress text, live-migration flags, ordering of the list.
import type { MigrationContextSummaryFragment, ReplicationJobFieldsFragment } from '../gql/graphql';
import { formatDuration } from './dumps';
import { formatBytes, formatClock, formatRate, NA } from './format';

export type ContextSummary = MigrationContextSummaryFragment;
export type Job = ReplicationJobFieldsFragment;

const ENDED = new Set(['completed', 'failed']);

export function isRunning(job: Pick<Job, 'status'> | null | undefined): boolean {
  return !!job && !ENDED.has(job.status);
}

/** "42.5 %"; a live migration shows no percent (dirty memory is sent again, it would run backwards). */
export function jobPercent(job: Job): number | null {
  return job.live ? null : job.progressPercent;
}

/** One line under a job's progress bar: throughput, ETA, bytes; for live migrations remaining and dirty vs sent. */
export function jobProgressText(job: Job): string {
  if (job.live) {
    const l = job.live;
    return [
      `${formatBytes(l.remainingBytes)} remaining`,
      `dirtying ${formatRate(l.dirtyRateBps)} vs sending ${formatRate(l.transferRateBps)}`,
      `iteration ${l.iteration}`,
      `expected downtime ${l.expectedDowntimeMs} ms`,
    ].join(' · ');
  }
  const parts = [`${job.progressPercent.toFixed(1)} %`, `${formatBytes(job.bytesTransferred)} of ${formatBytes(job.totalBytes)}`];
  if (isRunning(job)) parts.push(`${formatRate(job.transferSpeedBps)} (${job.throughputMbps.toFixed(1)} Mbit/s)`, `ETA ${job.etaSeconds === null || job.etaSeconds === undefined ? NA : formatDuration(job.etaSeconds)}`);
  return parts.join(' · ');
}

/** "not converging" / "stalled since 10:02:03" for live migrations, else null. */
export function liveFlag(job: Job): string | null {
  if (!job.live) return null;
  if (job.live.stalledSince) return `stalled since ${formatClock(job.live.stalledSince)}`;
  if (!job.live.converging) return 'not converging';
  return null;
}

/** Contexts with a job running first, then the most recently changed. */
export function sortContexts(all: ContextSummary[]): ContextSummary[] {
  return [...all].sort(
    (a, b) => Number(isRunning(b.currentJob)) - Number(isRunning(a.currentJob)) || b.updatedAt.localeCompare(a.updatedAt) || a.vmName.localeCompare(b.vmName),
  );
}

/** Page address of a context (VM names may hold any character). */
export function contextPath(vmName: string): string {
  return `/migrations/${encodeURIComponent(vmName)}`;
}
