// The seed's metrics with their units; a metric the hypervisor does not report shows N/A.
import { memo } from 'react';
import { SEED_METRICS, formatMetric } from '../lib/metrics';

export type MetricValues = { [name: string]: unknown };

function MetricsTableImpl({ values }: { values: MetricValues | null }) {
  const groups = ['CPU', 'Memory', 'Network', 'Disk'] as const;
  return (
    <table className="metrics-table" aria-label="Current metrics of this VM">
      <caption className="sr-only">Current metrics of this VM, with units</caption>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">Value</th>
          <th scope="col">Unit</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      {groups.map((g) => (
        <tbody key={g}>
          <tr className="group-row">
            <th scope="rowgroup" colSpan={4}>
              {g}
            </th>
          </tr>
          {SEED_METRICS.filter((m) => m.group === g).map((m) => {
            const raw = values?.[m.name] as string | number | null | undefined;
            const shown = formatMetric(m.unit, raw);
            return (
              <tr key={m.name}>
                <th scope="row">
                  <code>{m.name}</code>
                </th>
                <td className={shown === 'N/A' ? 'num na' : 'num'} data-metric={m.name} title={raw === null || raw === undefined ? 'not reported' : String(raw)}>
                  {shown}
                </td>
                <td className="unit">{m.unit}</td>
                <td className="muted">{m.description}</td>
              </tr>
            );
          })}
        </tbody>
      ))}
    </table>
  );
}

export const MetricsTable = memo(MetricsTableImpl);
