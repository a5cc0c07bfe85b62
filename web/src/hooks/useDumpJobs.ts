// Live dump jobs from dumpJobUpdated: the queued and running ones first, then every change.
// `onChange` runs when a job appears or reaches an end state, so records and stats are re-read then (no polling).
import { useEffect, useRef } from 'react';
import { useSubscription } from 'urql';
import { DumpJobUpdatedSubscription } from '../operations/dumps';
import { isActive, mergeJob, type DumpJob } from '../lib/dumps';

export function useDumpJobs(onChange?: (job: DumpJob) => void) {
  const [{ data: jobs, error }] = useSubscription({ query: DumpJobUpdatedSubscription }, (prev: Record<string, DumpJob> = {}, data) =>
    mergeJob(prev, data.dumpJobUpdated),
  );
  const seen = useRef(new Map<string, boolean>());
  const changed = useRef(onChange);
  changed.current = onChange;
  useEffect(() => {
    for (const job of Object.values(jobs ?? {})) {
      const wasActive = seen.current.get(job.id);
      const active = isActive(job);
      if (wasActive !== active) {
        seen.current.set(job.id, active);
        changed.current?.(job);
      }
    }
  }, [jobs]);
  return { jobs: jobs ?? {}, error };
}
