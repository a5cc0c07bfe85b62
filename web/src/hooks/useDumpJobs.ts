// Live dump jobs from dumpJobUpdated: the queued and running ones first, then every change.
// `onChange` runs when a job appears or its status changes (queued → running → an end state), so
// records and stats are re-read then (no polling); progress within a status does not call it.
import { useEffect, useRef } from 'react';
import { useSubscription } from 'urql';
import { DumpJobUpdatedSubscription } from '../operations/dumps';
import { mergeJob, type DumpJob } from '../lib/dumps';

export function useDumpJobs(onChange?: (job: DumpJob) => void) {
  const [{ data: jobs, error }] = useSubscription({ query: DumpJobUpdatedSubscription }, (prev: Record<string, DumpJob> = {}, data) =>
    mergeJob(prev, data.dumpJobUpdated),
  );
  const seen = useRef(new Map<string, string>());
  const changed = useRef(onChange);
  changed.current = onChange;
  useEffect(() => {
    for (const job of Object.values(jobs ?? {})) {
      if (seen.current.get(job.id) !== job.status) {
        seen.current.set(job.id, job.status);
        changed.current?.(job);
      }
    }
  }, [jobs]);
  return { jobs: jobs ?? {}, error };
}
