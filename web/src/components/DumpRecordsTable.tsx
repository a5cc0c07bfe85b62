// Dump records: who, when, sizes, hashes; verify (operators) and download (everyone) per row.
import { useState } from 'react';
import { useMutation } from 'urql';
import { VerifyDumpMutation } from '../operations/dumps';
import { fileName, formatDuration, formatRatio, type DumpJob } from '../lib/dumps';
import { downloadWithToken } from '../lib/download';
import { describeError } from '../lib/errors';
import { formatBytes, formatClock } from '../lib/format';
import { StateBadge } from './StateBadge';
import { TableHead } from './TableHead';

interface Props {
  records: DumpJob[];
  canAct: boolean;
  caption: string;
  hideVm?: boolean;
}

type RowNote = { ok: boolean; text: string };

const ratio = (j: DumpJob) => (j.rawBytes && j.gzipBytes && Number(j.gzipBytes) > 0 ? Number(j.rawBytes) / Number(j.gzipBytes) : null);
const when = (iso: string) => `${new Date(iso).toLocaleDateString()} ${formatClock(iso)}`;

export function DumpRecordsTable({ records, canAct, caption, hideVm }: Props) {
  const [verify, runVerify] = useMutation(VerifyDumpMutation);
  const [notes, setNotes] = useState<Record<string, RowNote>>({});
  const note = (id: string, n: RowNote) => setNotes((all) => ({ ...all, [id]: n }));

  const onVerify = async (job: DumpJob) => {
    note(job.id, { ok: true, text: 'verifying…' });
    const r = await runVerify({ id: job.id });
    if (r.error || !r.data) note(job.id, { ok: false, text: `verify failed: ${describeError(r.error) ?? 'no answer'}` });
    else note(job.id, { ok: r.data.verifyDump.ok, text: r.data.verifyDump.ok ? `verified ${formatClock(r.data.verifyDump.verifiedAt)}: hashes match` : `MISMATCH: ${r.data.verifyDump.detail}` });
  };
  const onDownload = async (job: DumpJob) => {
    try {
      note(job.id, { ok: true, text: 'downloading…' });
      await downloadWithToken(job.downloadUrl!, fileName(job));
      note(job.id, { ok: true, text: `downloaded ${fileName(job)}` });
    } catch (err) {
      note(job.id, { ok: false, text: (err as Error).message });
    }
  };

  if (records.length === 0) return <p className="muted">No dump recorded yet.</p>;
  return (
    <div className="table-wrap">
      <table className="dump-records">
        <caption className="sr-only">{caption}</caption>
        <TableHead columns={[hideVm ? null : 'VM', 'Status', 'Started', { num: 'Duration' }, { num: 'Memory' }, { num: '.gz' }, { num: 'Ratio' }, 'SHA-256 (raw)', 'By', 'Actions']} />
        <tbody>
          {records.map((j) => {
            const n = notes[j.id];
            return (
              <tr key={j.id} data-testid={`dump-record-${j.id}`} data-status={j.status}>
                {hideVm ? null : (
                  <th scope="row">
                    {j.vmName} <span className="muted">({j.host})</span>
                  </th>
                )}
                <td>
                  <StateBadge state={j.status} /> {j.simulated ? <span className="muted">simulated</span> : null}
                  {j.error ? <div className="error-cell">{j.error}</div> : null}
                </td>
                <td>{when(j.startedAt ?? j.createdAt)}</td>
                <td className="num">{formatDuration(j.durationSec)}</td>
                <td className="num">{formatBytes(j.rawBytes)}</td>
                <td className="num">{formatBytes(j.gzipBytes)}</td>
                <td className="num">{formatRatio(ratio(j))}</td>
                <td>{j.sha256 ? <code title={j.sha256} data-testid="dump-sha256" data-sha256={j.sha256}>{j.sha256.slice(0, 12)}…</code> : '—'}</td>
                <td>{j.triggeredBy}</td>
                <td>
                  <div className="actions">
                    {j.downloadUrl ? (
                      <button type="button" onClick={() => onDownload(j)}>
                        Download<span className="sr-only"> the dump of {j.vmName} #{j.id}</span>
                      </button>
                    ) : null}
                    {canAct && j.downloadUrl ? (
                      <button type="button" className="secondary" disabled={verify.fetching} onClick={() => onVerify(j)}>
                        Verify<span className="sr-only"> the dump of {j.vmName} #{j.id}</span>
                      </button>
                    ) : null}
                  </div>
                  {n ? (
                    <div className={n.ok ? 'muted' : 'error-cell'} role="status" data-testid="dump-note">
                      {n.text}
                    </div>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
