// Memory dumps: stats cards, the trigger form (operators), live progress per dump (dumpJobUpdated),
// and the records table with paging. Records and stats are re-read when a dump starts or ends.
import { useCallback, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { DumpRecordsQuery, DumpStatsQuery } from '../operations/dumps';
import { progressRows } from '../lib/dumps';
import { useDumpJobs } from '../hooks/useDumpJobs';
import { useCanAct } from '../hooks/useCanAct';
import { DumpProgressList } from '../components/DumpProgressList';
import { DumpRecordsTable } from '../components/DumpRecordsTable';
import { DumpStatsCards } from '../components/DumpStatsCards';
import { DumpTrigger } from '../components/DumpTrigger';
import { ErrorMessage } from '../components/ErrorMessage';

const PAGE_SIZE = 10;

export function DumpsPage() {
  const { canAct, known } = useCanAct();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [records, refetchRecords] = useQuery({ query: DumpRecordsQuery, variables: { first: PAGE_SIZE, after } });
  const [stats, refetchStats] = useQuery({ query: DumpStatsQuery });
  const refresh = useCallback(() => {
    refetchRecords({ requestPolicy: 'network-only' });
    refetchStats({ requestPolicy: 'network-only' });
  }, [refetchRecords, refetchStats]);
  const { jobs, error } = useDumpJobs(refresh);
  const rows = useMemo(() => progressRows(jobs), [jobs]);
  const page = records.data?.dumps;
  const pageNo = cursors.length;

  return (
    <section aria-labelledby="dumps-title">
      <div className="page-head">
        <h1 id="dumps-title">Memory dumps</h1>
        <p className="muted">Memory-only libvirt dumps, hashed (SHA-256) and gzipped as they stream.</p>
      </div>
      <DumpStatsCards stats={stats.data?.dumpStats} />
      <ErrorMessage error={stats.error} context="Error loading dump stats" />
      {canAct ? (
        <DumpTrigger />
      ) : known ? (
        <p className="muted" role="note">
          Your token is a viewer: taking, cancelling and verifying dumps needs an operator or admin token.
        </p>
      ) : null}
      <h2>Live progress</h2>
      <ErrorMessage error={error} context="Live dump progress" />
      <DumpProgressList jobs={rows} canAct={canAct} />
      <div className="toolbar">
        <h2 className="toolbar-title">Records</h2>
        <nav className="pager" aria-label="Dump record pages">
          <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length === 1}>
            Newer
          </button>
          <span className="muted" data-testid="dump-page">
            page {pageNo}
            {page ? ` · ${page.totalCount} record${page.totalCount === 1 ? '' : 's'}` : ''}
          </span>
          <button type="button" onClick={() => page?.pageInfo.endCursor && setCursors((c) => [...c, page.pageInfo.endCursor!])} disabled={!page?.pageInfo.hasNextPage}>
            Older
          </button>
        </nav>
      </div>
      <ErrorMessage error={records.error} context="Error loading dump records" />
      {page ? <DumpRecordsTable records={page.nodes} canAct={canAct} caption="Memory dump records, newest first" /> : <p className="muted">Loading records…</p>}
    </section>
  );
}
