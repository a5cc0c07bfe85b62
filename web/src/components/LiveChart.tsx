// One live line chart. No animation (1 Hz data), redrawn only when its data array changes.
import { memo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock } from '../lib/format';
import type { ChartPoint } from '../lib/history';

export interface ChartSeries {
  key: keyof Omit<ChartPoint, 't'>;
  name: string;
  color: string;
}

interface Props {
  title: string;
  data: ChartPoint[];
  series: ChartSeries[];
  format: (v: number) => string;
  /** shorter labels for the axis (defaults to format) */
  tickFormat?: (v: number) => string;
  yMax?: number;
}

function LiveChartImpl({ title, data, series, format, tickFormat, yMax }: Props) {
  const last = data[data.length - 1];
  const summary = series.map((s) => `${s.name} ${last && last[s.key] !== null ? format(last[s.key] as number) : 'N/A'}`).join(', ');
  const id = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
  return (
    <figure className="chart panel" aria-labelledby={`${id}-title`} aria-describedby={`${id}-summary`} data-points={data.length} data-testid={id}>
      <figcaption>
        <h3 id={`${id}-title`}>{title}</h3>
        <span id={`${id}-summary`} className="chart-summary">
          {summary}
        </span>
      </figcaption>
      <div className="chart-body" aria-hidden="true">
        <ResponsiveContainer width="100%" height={190} minWidth={100}>
          {/* accessibilityLayer off: its keyboard tooltip makes the svg focusable inside aria-hidden; the figure carries the text summary instead */}
          <LineChart data={data} margin={{ top: 12, right: 12, bottom: 0, left: 0 }} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="t" type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={formatClock} minTickGap={40} />
            <YAxis width={84} tickFormatter={(v: number) => (tickFormat ?? format)(v)} domain={[0, yMax ?? 'auto']} ticks={yMax ? [0, yMax / 4, yMax / 2, (3 * yMax) / 4, yMax] : undefined} allowDataOverflow={!!yMax} />
            <Tooltip labelFormatter={(t) => formatClock(Number(t))} formatter={(v) => (typeof v === 'number' ? format(v) : String(v))} isAnimationActive={false} />
            <Legend />
            {series.map((s) => (
              <Line key={s.key} type="monotone" dataKey={s.key} name={s.name} stroke={s.color} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export const LiveChart = memo(LiveChartImpl);
