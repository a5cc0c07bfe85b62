// One replication job's progress bar and figures (percent, bytes, throughput, ETA), or for a live
// migration its remaining bytes, dirty rate against transfer rate and a not-converging/stalled flag.
import { isRunning, jobPercent, jobProgressText, liveFlag, type Job } from '../lib/migrations';
import { StateBadge } from './StateBadge';

export function JobProgress({ job, label }: { job: Job; label: string }) {
  const percent = jobPercent(job);
  const flag = liveFlag(job);
  const id = `job-${job.id.replace(/[^a-zA-Z0-9_-]/g, '_')}-label`;
  return (
    <div className="job-progress" data-testid="job-progress" data-job={job.id} data-status={job.status} data-percent={percent ?? ''}>
      <div className="job-progress-head">
        <span id={id}>{label}</span>
        <StateBadge state={job.status} />
        <span className="muted">
          {job.replicationType}
          {job.currentPhase ? ` · ${job.currentPhase}` : ''}
        </span>
        {flag ? <span className="stale">{flag}</span> : null}
      </div>
      <progress aria-labelledby={id} max={100} value={percent ?? (isRunning(job) ? undefined : 100)} />
      <p className="job-progress-text" data-testid="job-progress-text">
        {jobProgressText(job)}
        {job.errorMessage ? <span className="error-cell"> — {job.errorMessage}</span> : null}
      </p>
    </div>
  );
}
