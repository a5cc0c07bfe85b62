// Every VM, live from the fleetMetrics subscription (one message per collector tick).
import { useDeferredValue, useMemo, useState } from 'react';
import { useSubscription } from 'urql';
import { FleetMetricsSubscription } from '../operations/fleet';
import { defaultDir, filterFleet, fromCompact, NO_OWNER, ownerLabel, sortFleet, type FleetFilter, type SortKey, type SortSpec } from '../lib/fleet';
import { formatClock } from '../lib/format';
import { FleetTable } from '../components/FleetTable';
import { ErrorMessage } from '../components/ErrorMessage';

export function FleetPage() {
  const [{ data, error }] = useSubscription({ query: FleetMetricsSubscription });
  const [sort, setSort] = useState<SortSpec>({ key: 'cpu', dir: 'desc' });
  const [filter, setFilter] = useState<FleetFilter>({ text: '', host: '', state: '', owner: '' });
  const deferredFilter = useDeferredValue(filter);
  const tick = data?.fleetMetrics;
  const all = useMemo(() => (tick ? fromCompact(tick.columns, tick.rows as unknown[][]) : undefined), [tick]);

  const hosts = useMemo(() => [...new Set((all ?? []).map((v) => v.host))].sort(), [all]);
  const owners = useMemo(() => [...new Set((all ?? []).map(ownerLabel).filter(Boolean))].sort(), [all]);
  const states = useMemo(() => [...new Set((all ?? []).map((v) => v.state))].sort(), [all]);
  const rows = useMemo(() => sortFleet(filterFleet(all ?? [], deferredFilter), sort), [all, deferredFilter, sort]);
  const staleCount = useMemo(() => (all ?? []).filter((v) => v.stale && v.state !== 'shutoff').length, [all]);

  const onSort = (key: SortKey) => setSort((s) => (s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: defaultDir(key) }));

  return (
    <section aria-labelledby="fleet-title">
      <div className="page-head">
        <h1 id="fleet-title">Fleet</h1>
        <p className="muted" aria-live="off">
          {tick ? (
            <>
              {all?.length ?? 0} VMs · {staleCount} stale · updated <time dateTime={tick.timestamp}>{formatClock(tick.timestamp)}</time>
            </>
          ) : (
            'Waiting for the first collector tick…'
          )}
        </p>
      </div>
      <ErrorMessage error={error} context="Live fleet" />
      {/* biome-ignore lint/a11y/useSemanticElements: role=search on the form itself is the ARIA landmark pattern; a <search> wrapper would add an element and change nothing for assistive technology */}
      <form className="filters" role="search" aria-label="Filter VMs" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="fleet-text">Name or host</label>
          <input id="fleet-text" type="search" value={filter.text} placeholder="e.g. web-" onChange={(e) => setFilter({ ...filter, text: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="fleet-host">Host</label>
          <select id="fleet-host" value={filter.host} onChange={(e) => setFilter({ ...filter, host: e.target.value })}>
            <option value="">All hosts</option>
            {hosts.map((h) => (
              <option key={h}>{h}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="fleet-owner">Owner</label>
          <select id="fleet-owner" value={filter.owner} onChange={(e) => setFilter({ ...filter, owner: e.target.value })}>
            <option value="">All owners</option>
            {owners.map((o) => (
              <option key={o}>{o}</option>
            ))}
            <option value={NO_OWNER}>No owner</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="fleet-state">State</label>
          <select id="fleet-state" value={filter.state} onChange={(e) => setFilter({ ...filter, state: e.target.value })}>
            <option value="">All states</option>
            {states.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <p className="muted filter-count" aria-live="polite">
          {tick ? `${rows.length} shown` : ''}
        </p>
      </form>
      <FleetTable rows={rows} sort={sort} onSort={onSort} />
    </section>
  );
}
