// The seed's /stats as cards: dumps, VMs, bytes kept, average duration, last dump.
import type { DumpStatsQuery } from '../gql/graphql';
import { formatDuration } from '../lib/dumps';
import { formatBytes, formatClock } from '../lib/format';

export function DumpStatsCards({ stats }: { stats: DumpStatsQuery['dumpStats'] | undefined }) {
  const cards: [string, string, string][] = [
    ['Dumps', stats ? String(stats.totalDumps) : '…', 'total-dumps'],
    ['VMs dumped', stats ? String(stats.totalVms) : '…', 'total-vms'],
    ['Stored', stats ? formatBytes(stats.totalSizeBytes) : '…', 'total-size'],
    ['Average duration', stats ? formatDuration(stats.avgDurationSec) : '…', 'avg-duration'],
    ['Last dump', stats ? (stats.lastDump ? `${new Date(stats.lastDump).toLocaleDateString()} ${formatClock(stats.lastDump)}` : '—') : '…', 'last-dump'],
  ];
  return (
    <dl className="stat-cards">
      {cards.map(([label, value, id]) => (
        <div key={id} className="panel stat-card">
          <dt>{label}</dt>
          <dd data-testid={`dump-stat-${id}`}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
