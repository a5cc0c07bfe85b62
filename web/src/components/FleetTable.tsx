// The fleet as a virtualised table: only the rows in view are in the DOM, so 1,000 VMs stay smooth.
import { useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Link } from '../lib/router';
import { formatPct, formatRate } from '../lib/format';
import { ownerLabel, type FleetRow, type SortKey, type SortSpec } from '../lib/fleet';
import { StaleMarker, StateBadge } from './StateBadge';

const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: 'name', label: 'Name' },
  { key: 'host', label: 'Host' },
  { key: 'owner', label: 'Owner' },
  { key: 'state', label: 'State' },
  { key: 'cpu', label: 'CPU', numeric: true },
  { key: 'mem', label: 'Memory', numeric: true },
  { key: 'net', label: 'Network rx / tx', numeric: true },
  { key: 'disk', label: 'Disk read / write', numeric: true },
];

const ROW_HEIGHT = 40;

interface Props {
  rows: FleetRow[];
  sort: SortSpec;
  onSort: (key: SortKey) => void;
}

export function FleetTable({ rows, sort, onSort }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    getItemKey: (i) => rows[i]!.vmId,
  });
  const items = virtualizer.getVirtualItems();
  return (
    <div className="fleet-table" role="table" aria-label="Virtual machines, live" aria-rowcount={rows.length + 1}>
      <div role="rowgroup" className="fleet-head">
        <div role="row" className="fleet-row" aria-rowindex={1}>
          {COLUMNS.map((c) => {
            const active = sort.key === c.key;
            return (
              <div
                key={c.key}
                role="columnheader"
                className={c.numeric ? 'num' : undefined}
                aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
              >
                <button type="button" className="sort-button" onClick={() => onSort(c.key)} aria-label={`Sort by ${c.label}`}>
                  {c.label}
                  <span aria-hidden="true" className="sort-arrow">
                    {active ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                  </span>
                </button>
              </div>
            );
          })}
        </div>
      </div>
      <div ref={scrollRef} className="fleet-scroll" role="rowgroup" tabIndex={0} aria-label="Virtual machine rows (scrollable)">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const r = rows[item.index]!;
            return (
              <div
                key={item.key}
                role="row"
                className={`fleet-row${r.stale && r.state !== 'shutoff' ? ' is-stale' : ''}`}
                aria-rowindex={item.index + 2}
                data-vm={r.name}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
              >
                <div role="cell" className="name-cell">
                  <Link to={`/vms/${encodeURIComponent(r.vmId)}`}>{r.name}</Link> <StaleMarker stale={r.stale && r.state !== 'shutoff'} />
                </div>
                <div role="cell">{r.host}</div>
                <div role="cell">{ownerLabel(r) || <span className="muted">—</span>}</div>
                <div role="cell">
                  <StateBadge state={r.state} />
                </div>
                <div role="cell" className="num" data-col="cpu">
                  <Meter value={r.cpuPct} />
                </div>
                <div role="cell" className="num" data-col="mem">
                  <Meter value={r.memPct} />
                </div>
                <div role="cell" className="num">
                  {formatRate(r.netRxBps)} / {formatRate(r.netTxBps)}
                </div>
                <div role="cell" className="num">
                  {formatRate(r.diskReadBps)} / {formatRate(r.diskWriteBps)}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function Meter({ value }: { value: number | null | undefined }) {
  const pct = value == null ? 0 : Math.max(0, Math.min(100, value));
  return (
    <span className="meter-cell">
      <span className="meter" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      <span className="meter-value">{formatPct(value)}</span>
    </span>
  );
}
