// CBT history as bars: bytes each changed-block sync sent, oldest to newest, failed syncs marked.
// The chart is a picture (aria-hidden, no focusable parts); the table beside it carries the data.
import { memo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBytes, formatClock } from '../lib/format';

export interface CbtPoint {
  id: number;
  at: string;
  diskId: string;
  bytes: number;
  ok: boolean;
}

function CbtChartImpl({ points }: { points: CbtPoint[] }) {
  const total = points.reduce((s, p) => s + p.bytes, 0);
  const failed = points.filter((p) => !p.ok).length;
  return (
    <figure className="chart panel" aria-labelledby="cbt-chart-title" aria-describedby="cbt-chart-summary" data-testid="cbt-chart" data-points={points.length}>
      <figcaption>
        <h3 id="cbt-chart-title">Bytes per CBT sync</h3>
        <span id="cbt-chart-summary" className="chart-summary">
          {points.length} syncs, {formatBytes(total)} in all{failed ? `, ${failed} failed` : ''}
        </span>
      </figcaption>
      <div className="chart-body" aria-hidden="true">
        <ResponsiveContainer width="100%" height={190} minWidth={100}>
          <BarChart data={points} margin={{ top: 12, right: 12, bottom: 0, left: 0 }} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="at" tickFormatter={(v: string) => formatClock(v)} minTickGap={30} />
            <YAxis width={84} tickFormatter={(v: number) => formatBytes(v, 0)} />
            <Tooltip labelFormatter={(v) => formatClock(String(v))} formatter={(v) => formatBytes(Number(v))} isAnimationActive={false} />
            <Bar dataKey="bytes" name="bytes" isAnimationActive={false}>
              {points.map((p) => (
                <Cell key={p.id} fill={p.ok ? 'var(--accent)' : 'var(--err)'} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export const CbtChart = memo(CbtChartImpl);
