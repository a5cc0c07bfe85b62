// Every migration context: the list once, then live from replicationJobUpdated (the current state of
// each first, then every change): status, the current job's progress bar, throughput and ETA. Nothing polls.
import { useMemo } from 'react';
import { useQuery, useSubscription } from 'urql';
import { MigrationContextsLive, MigrationContextsQuery } from '../operations/migrations';
import { contextPath, sortContexts, type ContextSummary } from '../lib/migrations';
import { formatClock } from '../lib/format';
import { Link } from '../lib/router';
import { ErrorMessage } from '../components/ErrorMessage';
import { JobProgress } from '../components/JobProgress';
import { StateBadge } from '../components/StateBadge';

export function MigrationsPage() {
  const [initial] = useQuery({ query: MigrationContextsQuery });
  const [{ data: changes, error }] = useSubscription({ query: MigrationContextsLive }, (prev: Record<string, ContextSummary> = {}, data) => ({
    ...prev,
    [data.replicationJobUpdated.context.contextId]: data.replicationJobUpdated.context,
  }));
  // The subscription sends each context's current state first, so its entries are never older than the query's.
  const contexts = useMemo(
    () => (initial.data || changes ? { ...Object.fromEntries((initial.data?.migrationContexts ?? []).map((c) => [c.contextId, c])), ...changes } : undefined),
    [initial.data, changes],
  );
  const list = useMemo(() => sortContexts(Object.values(contexts ?? {})), [contexts]);
  const running = list.filter((c) => c.currentJob && c.currentJob.status !== 'completed' && c.currentJob.status !== 'failed').length;

  return (
    <section aria-labelledby="migrations-title">
      <div className="page-head">
        <h1 id="migrations-title">Migrations</h1>
        <p className="muted" data-testid="migrations-count">
          {contexts ? `${list.length} ${list.length === 1 ? 'context' : 'contexts'} · ${running} with a job running` : 'Waiting for the first update…'}
        </p>
      </div>
      <ErrorMessage error={initial.error} context="Error loading migration contexts" />
      <ErrorMessage error={error} context="Live migration contexts" />
      {contexts && list.length === 0 ? (
        <p className="muted">
          No migration context yet. Replicators report them through the API, vmpulse records libvirt's own migrations, block copies and saves, and{' '}
          <code>npm run replay</code> plays a demo one.
        </p>
      ) : null}
      <ul className="context-list">
        {list.map((c) => (
          <li key={c.contextId} className="panel context-item" data-testid="migration-context" data-vm={c.vmName} data-status={c.currentStatus}>
            <div className="context-head">
              <h2>
                <Link to={contextPath(c.vmName)}>{c.vmName}</Link>
              </h2>
              <StateBadge state={c.currentStatus} />
              <span className="muted">
                {c.source} · {c.sourceHost || 'unknown host'}
              </span>
              {c.replayed ? <span className="badge badge-demo">replayed</span> : null}
              <span className="muted context-counts">
                {c.totalJobsRun} jobs · {c.successfulJobs} ok · {c.failedJobs} failed
                {c.lastJobAt ? ` · last ${formatClock(c.lastJobAt)}` : ''}
              </span>
            </div>
            {c.currentJob ? <JobProgress job={c.currentJob} label={`Job ${c.currentJob.id}`} /> : <p className="muted">No job yet.</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
