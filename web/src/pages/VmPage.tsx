// One VM: live charts from vmMetrics, the seed's metric table, stored history with the live tail, and its memory dumps.
import { useEffect, useMemo, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { VmHeaderQuery, VmHistoryQuery, VmMetricsSubscription } from '../operations/vm';
import { useFixedWindow } from '../hooks/useFixedWindow';
import { HISTORY_RANGE_ENUM_NAMES } from '@vmpulse/domain/history';
import { historyToPoints, joinHistoryAndLive, snapshotToPoint, type ChartPoint } from '../lib/history';
import { formatBytes, formatKiB, formatPct, formatRate } from '../lib/format';
import { LiveChart, type ChartSeries } from '../components/LiveChart';
import { MetricsTable } from '../components/MetricsTable';
import { RangePicker, type RangeChoice } from '../components/RangePicker';
import { StaleMarker, StateBadge } from '../components/StateBadge';
import { ErrorMessage } from '../components/ErrorMessage';
import { VmSelector } from '../components/VmSelector';
import { DemoBadge } from '../components/DemoBadge';
import { VmDumps } from '../components/VmDumps';
import { Link } from '../lib/router';

/** Points kept for the live charts: five minutes at 1 Hz. */
const LIVE_WINDOW = 300;

const CPU: ChartSeries[] = [
  { key: 'cpu', name: 'total', color: '#64748b' },
  { key: 'cpuUser', name: 'user', color: '#2f7de1' },
  { key: 'cpuSystem', name: 'system', color: '#e8772e' },
];
const MEM: ChartSeries[] = [{ key: 'mem', name: 'memory', color: '#8e5bd6' }];
const NET: ChartSeries[] = [
  { key: 'rx', name: 'rx', color: '#1f9d74' },
  { key: 'tx', name: 'tx', color: '#d6456a' },
];
const DISK: ChartSeries[] = [
  { key: 'rd', name: 'read', color: '#2f7de1' },
  { key: 'wr', name: 'write', color: '#c99a06' },
];
const pct = (v: number) => formatPct(v, 0);
const rate = (v: number) => formatRate(v);
const rateTick = (v: number) => (v === 0 ? '0' : `${formatBytes(v, 0)}/s`);

interface Props {
  vmId: string | null;
  onSelect: (id: string) => void;
}

export function VmPage({ vmId, onSelect }: Props) {
  return (
    <section aria-labelledby="vm-title">
      <div className="page-head">
        <h1 id="vm-title">VM metrics</h1>
        <VmSelector value={vmId} onChange={onSelect} />
      </div>
      {vmId ? <VmDetail key={vmId} vmId={vmId} /> : <p className="muted">Choose a VM to see its metrics.</p>}
    </section>
  );
}

function VmDetail({ vmId }: { vmId: string }) {
  const [header] = useQuery({ query: VmHeaderQuery, variables: { id: vmId } });
  const [live] = useSubscription({ query: VmMetricsSubscription, variables: { vmId } });
  const [range, setRange] = useState<RangeChoice>('live');
  const window = useFixedWindow<ChartPoint>(LIVE_WINDOW);
  const snapshot = live.data?.vmMetrics;
  const { push } = window;

  useEffect(() => {
    if (snapshot) push(snapshotToPoint(snapshot));
  }, [snapshot, push]);

  const vm = header.data?.vm;
  if (header.data && !vm) return <p role="alert" className="error">No VM with id {vmId}.</p>;

  return (
    <>
      <header className="vm-header panel">
        <h2>{vm?.name ?? vmId}</h2>
        {vm ? (
          <dl className="facts">
            <div>
              <dt>State</dt>
              <dd>
                <StateBadge state={snapshot?.state ?? vm.state} /> <StaleMarker stale={!!snapshot?.stale} title={snapshot?.error ?? undefined} />
              </dd>
            </div>
            <div>
              <dt>Host</dt>
              <dd>
                {vm.host.name} <DemoBadge demo={vm.host.demo} />
              </dd>
            </div>
            <div>
              <dt>vCPUs</dt>
              <dd>{vm.cpuCount}</dd>
            </div>
            <div>
              <dt>Memory</dt>
              <dd>{formatKiB(vm.memoryMax)}</dd>
            </div>
            {vm.migrationContext ? (
              <div>
                <dt>Migration</dt>
                <dd>
                  <Link to={`/migrations/${encodeURIComponent(vm.migrationContext.vmName)}`}>{vm.migrationContext.currentStatus}</Link>
                </dd>
              </div>
            ) : null}
            <div>
              <dt>UUID</dt>
              <dd>
                <code>{vm.uuid}</code>
              </dd>
            </div>
          </dl>
        ) : null}
        <ErrorMessage error={header.error} context="Error loading the VM" />
      </header>
      <ErrorMessage error={live.error} context="Error fetching telemetry" />
      {snapshot?.stale ? (
        <p className="notice" role="status">
          The last tick could not sample this VM{snapshot.error ? ` (${snapshot.error})` : ''}; values are {Math.round(snapshot.ageMs / 1000)} s old.
        </p>
      ) : null}
      <div className="toolbar">
        <h2 className="toolbar-title">Charts</h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <VmCharts vmId={vmId} range={range} live={window.points} />
      {vm ? <VmDumps vmId={vmId} vmName={vm.name} running={(snapshot?.state ?? vm.state) === 'running'} /> : null}
      <h2>Metrics</h2>
      <MetricsTable values={snapshot ?? null} />
    </>
  );
}

function VmCharts({ vmId, range, live }: { vmId: string; range: RangeChoice; live: ChartPoint[] }) {
  const [history] = useQuery({
    query: VmHistoryQuery,
    variables: { id: vmId, range: HISTORY_RANGE_ENUM_NAMES[range === 'live' ? '15m' : range] },
    pause: range === 'live',
  });
  const stored = useMemo(
    () => (range === 'live' || !history.data?.vm ? null : historyToPoints(history.data.vm.history.points)),
    [range, history.data],
  );
  const data = useMemo(() => (stored ? joinHistoryAndLive(stored, live) : live), [stored, live]);
  return (
    <>
      {range !== 'live' ? (
        <p className="muted" role="status" data-testid="history-status" data-stored-points={stored?.length ?? 0}>
          {history.fetching
            ? `Loading ${range} of history…`
            : stored
              ? `${stored.length} stored points over ${range} (step ${history.data?.vm?.history.stepSec ?? '?'} s), live tail joined on`
              : ''}
        </p>
      ) : null}
      <ErrorMessage error={history.error} context="Error loading history" />
      <div className="charts">
        <LiveChart title="CPU %" data={data} series={CPU} format={pct} yMax={100} />
        <LiveChart title="Memory %" data={data} series={MEM} format={pct} yMax={100} />
        <LiveChart title="Network bytes/s" data={data} series={NET} format={rate} tickFormat={rateTick} />
        <LiveChart title="Disk bytes/s" data={data} series={DISK} format={rate} tickFormat={rateTick} />
      </div>
    </>
  );
}
