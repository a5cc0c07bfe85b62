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
              <td colSpan={9} className="muted">
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
