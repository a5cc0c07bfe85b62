// The collector: live status per host (collectorStatus subscription), start/stop, and the safe config.
import { useState } from 'react';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { CollectorStatusSubscription, ConfigQuery, StartCollectorMutation, StopCollectorMutation } from '../operations/collector';
import { ServerInfoQuery } from '../operations/server';
import { formatClock } from '../lib/format';
import { isForbidden } from '../lib/errors';
import { ErrorMessage } from '../components/ErrorMessage';
import { CollectorHostsTable } from '../components/CollectorHostsTable';

export function CollectorPage() {
  const [{ data, error }] = useSubscription({ query: CollectorStatusSubscription });
  const [start, runStart] = useMutation(StartCollectorMutation);
  const [stop, runStop] = useMutation(StopCollectorMutation);
  const [actionError, setActionError] = useState<CombinedError | null>(null);
  const [{ data: who }] = useQuery({ query: ServerInfoQuery });
  const status = data?.collectorStatus;
  const busy = start.fetching || stop.fetching;
  const readOnly = who?.me.role === 'viewer';

  const act = async (run: () => Promise<{ error?: CombinedError }>) => {
    setActionError(null);
    const r = await run();
    if (r.error) setActionError(r.error);
  };

  return (
    <section aria-labelledby="collector-title">
      <div className="page-head">
        <h1 id="collector-title">Collector</h1>
        <div className="actions">
          <button type="button" onClick={() => act(() => runStart({}))} disabled={readOnly || busy || status?.running === true}>
            Start collector
          </button>
          <button type="button" className="danger" onClick={() => act(() => runStop({}))} disabled={readOnly || busy || status?.running === false}>
            Stop collector
          </button>
        </div>
      </div>
      {readOnly ? (
        <p className="muted" role="note">
          Your token is a viewer: starting and stopping the collector needs an operator or admin token.
        </p>
      ) : null}
      {actionError ? (
        <p className="error" role="alert">
          {isForbidden(actionError)
            ? 'Your token cannot start or stop the collector: that needs an operator or admin token.'
            : `The collector could not be changed: ${actionError.graphQLErrors[0]?.message ?? actionError.message}`}
        </p>
      ) : null}
      <ErrorMessage error={error} context="Live collector status" />
      {status ? (
        <div className="panel">
          <dl className="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <span className={`state ${status.running ? 'state-running' : 'state-shutoff'}`} data-testid="collector-state">
                  {status.running ? 'running' : 'stopped'}
                </span>
              </dd>
            </div>
            <div>
              <dt>Interval</dt>
              <dd>{status.intervalSec} s</dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{status.startedAt ? formatClock(status.startedAt) : '—'}</dd>
            </div>
            <div>
              <dt>Ticks</dt>
              <dd data-testid="collector-ticks">{status.ticks}</dd>
            </div>
            <div>
              <dt>Samples</dt>
              <dd>{status.samples}</dd>
            </div>
            <div>
              <dt>Errors</dt>
              <dd>{status.errors}</dd>
            </div>
            <div>
              <dt>Last tick</dt>
              <dd>{status.lastTickMs == null ? '—' : `${status.lastTickMs.toFixed(1)} ms`}</dd>
            </div>
            <div>
              <dt>Store</dt>
              <dd>
                {status.store.backend}: {status.store.written} written, {status.store.bufferDepth} buffered, {status.store.dropped} dropped,{' '}
                {status.store.failedWrites} failed writes
                {status.store.lastError ? <span className="error"> ({status.store.lastError})</span> : null}
              </dd>
            </div>
          </dl>
        </div>
      ) : (
        !error && <p className="muted">Waiting for the collector status…</p>
      )}
      <h2>Hosts</h2>
      <CollectorHostsTable hosts={status?.hosts ?? []} />
      <SafeConfig />
    </section>
  );
}

function SafeConfig() {
  const [{ data, error, fetching }] = useQuery({ query: ConfigQuery });
  return (
    <section aria-labelledby="config-title">
      <h2 id="config-title">Configuration (secrets masked)</h2>
      <ErrorMessage error={error} context="Error loading the configuration" />
      {fetching && !data ? <p className="muted">Loading…</p> : null}
      {data ? (
        // The section's heading names it (an aria-label on a <pre> is not announced: ARIA forbids naming a generic element).
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so keyboard users can scroll it (axe: scrollable-region-focusable)
        <pre className="panel config" tabIndex={0}>
          {JSON.stringify(data.config, null, 2)}
        </pre>
      ) : null}
    </section>
  );
}
