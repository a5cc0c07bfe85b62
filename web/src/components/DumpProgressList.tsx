// One progress bar per dump job, live from dumpJobUpdated: percent, MB/s, ETA, compression ratio; cancel.
import { useState } from 'react';
import { useMutation } from 'urql';
import { CancelDumpMutation } from '../operations/dumps';
import { isActive, progressText, type DumpJob } from '../lib/dumps';
import { describeError } from '../lib/errors';
import { StateBadge } from './StateBadge';

interface Props {
  jobs: DumpJob[];
  canAct: boolean;
  /** hide the VM name (on a VM's own page) */
  hideVm?: boolean;
}

export function DumpProgressList({ jobs, canAct, hideVm }: Props) {
  const [cancel, runCancel] = useMutation(CancelDumpMutation);
  const [error, setError] = useState<string | null>(null);
  if (jobs.length === 0) return <p className="muted">No dump is running.</p>;
  return (
    <>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="dump-progress-list">
        {jobs.map((job) => {
          const label = `dump-${job.id}-label`;
          const percent = job.progress.percent ?? undefined;
          return (
            <li key={job.id} className="dump-progress panel" data-testid={`dump-progress-${job.id}`} data-status={job.status} data-percent={percent ?? ''}>
              <div className="dump-progress-head">
                <span id={label}>
                  {hideVm ? `Dump #${job.id}` : job.vmName} <span className="muted">({job.host})</span>
                </span>
                <StateBadge state={job.status} />
                {canAct && isActive(job) ? (
                  <button
                    type="button"
                    className="danger"
                    disabled={cancel.fetching}
                    onClick={async () => {
                      setError(null);
                      const r = await runCancel({ id: job.id });
                      if (r.error) setError(`Could not cancel the dump of ${job.vmName}: ${describeError(r.error)}`);
                    }}
                  >
                    Cancel<span className="sr-only"> the dump of {job.vmName}</span>
                  </button>
                ) : null}
              </div>
              <progress aria-labelledby={label} max={100} value={job.status === 'queued' ? undefined : (percent ?? (isActive(job) ? undefined : 0))} />
              <p className="dump-progress-text" data-testid="dump-progress-text">
                {progressText(job)}
                {job.error ? <span className="error-cell"> — {job.error}</span> : null}
              </p>
            </li>
          );
        })}
      </ul>
    </>
  );
}
