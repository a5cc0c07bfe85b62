import { formatClock } from '../lib/format';
import type { CollectorStatusFieldsFragment } from '../gql/graphql';
import { DemoBadge } from './DemoBadge';

type HostStatus = CollectorStatusFieldsFragment['hosts'][number];

export function CollectorHostsTable({ hosts }: { hosts: HostStatus[] }) {
  return (
    <div className="table-wrap">
      <table aria-label="Collector status per host">
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">URI</th>
            <th scope="col">Connection</th>
            <th scope="col">Collected by</th>
            <th scope="col" className="num">Ticks</th>
            <th scope="col" className="num">Samples</th>
            <th scope="col" className="num">Stale VMs</th>
            <th scope="col" className="num">Errors</th>
            <th scope="col" className="num">Last tick</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {hosts.length === 0 ? (
            <tr>
              <td colSpan={10} className="muted">
                No hosts yet.
              </td>
            </tr>
          ) : null}
          {hosts.map((h) => (
            <tr key={h.hostId}>
              <th scope="row">
                {h.name} <DemoBadge demo={h.demo} />
              </th>
              <td>
                <code className="uri">{h.uri}</code>
              </td>
              <td>
                <span className={`state ${h.connected ? 'state-running' : 'state-shutoff'}`}>{h.connected ? 'connected' : 'disconnected'}</span>
              </td>
              <td>
                {h.owner ?? <span className="muted">no replica (lease free)</span>}
                {h.ownedHere ? <span className="muted"> (this replica)</span> : null}
                {h.leaseAgeSec != null ? <span className="muted"> · lease {formatLeaseAge(h.leaseAgeSec)}</span> : null}
              </td>
              <td className="num">{h.ticks}</td>
              <td className="num">{h.samples}</td>
              <td className="num">{h.staleVms}</td>
              <td className="num">{h.errors}</td>
              <td className="num">
                {h.lastTickAt ? formatClock(h.lastTickAt) : '—'}
                {h.lastTickMs != null ? ` (${h.lastTickMs.toFixed(1)} ms)` : ''}
              </td>
              <td className="error-cell">{h.lastError ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "42 s", "3 min", "2 h 5 min": how long the owner has held the host's lease. */
function formatLeaseAge(sec: number): string {
  if (sec < 120) return `${Math.round(sec)} s`;
  const min = Math.floor(sec / 60);
  if (min < 120) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}
