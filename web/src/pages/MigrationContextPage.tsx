// One migration context, live (replicationJobUpdated for this VM, re-sent whole on each change):
// the current job's steps, per-disk progress bars, job history and the CBT history chart.
import { useMemo } from 'react';
import { useQuery, useSubscription } from 'urql';
import type { MigrationContextLiveSubscription } from '../gql/graphql';
import { MigrationContextExists, MigrationContextLive } from '../operations/migrations';
import { formatBytes, formatClock } from '../lib/format';
import { formatDuration } from '../lib/dumps';
import { Link } from '../lib/router';
import { CbtChart, type CbtPoint } from '../components/CbtChart';
import { ErrorMessage } from '../components/ErrorMessage';
import { JobProgress } from '../components/JobProgress';
import { StateBadge } from '../components/StateBadge';
import { TableHead } from '../components/TableHead';

type Context = MigrationContextLiveSubscription['replicationJobUpdated']['context'];
type Disk = Context['disks'][number];

const when = (iso: string | null | undefined) => (iso ? `${new Date(iso).toLocaleDateString()} ${formatClock(iso)}` : '—');

export function MigrationContextPage({ vmName }: { vmName: string }) {
  const [live] = useSubscription({ query: MigrationContextLive, variables: { vmName } });
  const [exists] = useQuery({ query: MigrationContextExists, variables: { vmName } });
  const c = live.data?.replicationJobUpdated.context;
  const shownJob = c?.currentJob ?? c?.jobHistory[0];
  const cbt = useMemo<CbtPoint[]>(
    () => [...(c?.cbtHistory ?? [])].reverse().map((r) => ({ id: r.id, at: r.createdAt, diskId: r.diskId, bytes: Number(r.bytesTransferred), ok: r.syncSuccess })),
    [c?.cbtHistory],
  );

  return (
    <section aria-labelledby="context-title">
      <div className="page-head">
        <h1 id="context-title">Migration of {vmName}</h1>
        <Link to="/migrations">All migrations</Link>
      </div>
      <ErrorMessage error={live.error ?? exists.error} context="Live migration context" />
      {exists.data && !exists.data.migrationContext && !c ? (
        <p role="alert" className="error">
          No migration context for {vmName}.
        </p>
      ) : null}
      {!c ? (
        <p className="muted">Waiting for the context…</p>
      ) : (
        <>
          <div className="panel">
            <dl className="facts">
              <div>
                <dt>Status</dt>
                <dd data-testid="context-status">
                  <StateBadge state={c.currentStatus} /> {c.replayed ? <span className="badge badge-demo">replayed</span> : null}
                </dd>
              </div>
              <div>
                <dt>Source</dt>
                <dd>
                  {c.source} · {c.sourceHost || '—'}
                </dd>
              </div>
              <div>
                <dt>Jobs</dt>
                <dd data-testid="context-jobs">
                  {c.totalJobsRun} run · {c.successfulJobs} ok · {c.failedJobs} failed
                </dd>
              </div>
              <div>
                <dt>VM</dt>
                <dd>
                  {c.vm ? <Link to={`/vms/${encodeURIComponent(c.vm.id)}`}>metrics of {c.vmName}</Link> : 'not monitored'} · {c.cpuCount} vCPU · {c.memoryMb} MB · {c.osType || '—'} · {c.powerState || '—'}
                </dd>
              </div>
              <div>
                <dt>First / last job</dt>
                <dd>
                  {when(c.firstJobAt)} / {when(c.lastJobAt)}
                </dd>
              </div>
            </dl>
          </div>

          <h2>{c.currentJob ? 'Current job' : 'Last job'}</h2>
          {shownJob ? (
            <div className="panel" data-testid="shown-job" data-job={shownJob.id}>
              <JobProgress job={shownJob} label={`Job ${shownJob.id}`} />
              <h3 className="steps-title">Steps</h3>
              <ol className="steps" data-testid="job-steps">
                {shownJob.steps.map((s) => (
                  <li key={s.ordinal} className={`step step-${s.state}`} data-state={s.state}>
                    <span className="step-name">{s.name}</span> <StateBadge state={s.state} />{' '}
                    <span className="muted">
                      {s.startedAt ? formatClock(s.startedAt) : ''}
                      {s.finishedAt ? ` → ${formatClock(s.finishedAt)}` : ''}
                    </span>
                    {s.disks.length ? <DiskBars disks={s.disks} prefix={`step-${s.ordinal}`} /> : null}
                  </li>
                ))}
              </ol>
            </div>
          ) : (
            <p className="muted">No job yet.</p>
          )}

          <h2>Disks</h2>
          <DiskBars disks={c.disks} prefix="disks" />

          <h2>Job history</h2>
          <JobHistory jobs={c.jobHistory} />

          <h2>CBT history</h2>
          {cbt.length ? (
            <>
              <CbtChart points={cbt} />
              <div className="table-wrap cbt-table">
                <table>
                  <caption className="sr-only">CBT syncs, newest first</caption>
                  <TableHead columns={['When', 'Disk', 'Type', 'Change id', { num: 'Blocks' }, { num: 'Bytes' }, { num: 'Duration' }, 'Result']} />
                  <tbody>
                    {c.cbtHistory.map((r) => (
                      <tr key={r.id}>
                        <td>{when(r.createdAt)}</td>
                        <td>{r.diskId}</td>
                        <td>{r.syncType}</td>
                        <td>
                          <code>{r.changeId}</code>
                        </td>
                        <td className="num">{r.blocksChanged.toLocaleString('en-US')}</td>
                        <td className="num">{formatBytes(r.bytesTransferred)}</td>
                        <td className="num">{formatDuration(r.syncDurationSeconds)}</td>
                        <td>{r.syncSuccess ? 'ok' : <span className="error-cell">failed</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          ) : (
            <p className="muted">No CBT sync yet.</p>
          )}
        </>
      )}
    </section>
  );
}

function DiskBars({ disks, prefix }: { disks: Disk[]; prefix: string }) {
  if (!disks.length) return <p className="muted">No disks reported.</p>;
  return (
    <ul className="disk-bars" data-testid={`${prefix}-bars`}>
      {disks.map((d) => {
        const id = `${prefix}-${d.id}-label`;
        return (
          <li key={d.id} data-disk={d.diskId} data-percent={d.syncProgressPercent}>
            <span id={id}>
              {d.label || d.diskId} <span className="muted">({d.diskId})</span>
            </span>
            <progress aria-labelledby={id} max={100} value={d.syncProgressPercent} />
            <span className="disk-figures">
              {d.syncProgressPercent.toFixed(1)} % · {formatBytes(d.bytesSynced)} of {formatBytes(d.capacityBytes)} · {d.syncStatus}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function JobHistory({ jobs }: { jobs: Context['jobHistory'] }) {
  if (!jobs.length) return <p className="muted">No earlier job.</p>;
  return (
    <div className="table-wrap">
      <table data-testid="job-history">
        <caption className="sr-only">Earlier jobs, newest first</caption>
        <TableHead columns={['Job', 'Type', 'Status', 'Started', 'Ended', { num: 'Transferred' }, 'Error']} />
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} data-status={j.status}>
              <td>
                <code>{j.id}</code>
              </td>
              <td>{j.replicationType}</td>
              <td>
                <StateBadge state={j.status} />
              </td>
              <td>{when(j.createdAt)}</td>
              <td>{when(j.completedAt)}</td>
              <td className="num">
                {formatBytes(j.bytesTransferred)} of {formatBytes(j.totalBytes)}
              </td>
              <td>{j.errorMessage ? <span className="error-cell">{j.errorMessage}</span> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
