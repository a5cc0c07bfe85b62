// A VM's memory dumps on its page: "Dump memory now" (operators, running VMs), live progress, and its records.
import { useCallback, useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { TriggerDumpsMutation, VmDumpsQuery } from '../operations/dumps';
import { isActive, progressRows } from '../lib/dumps';
import { describeError } from '../lib/errors';
import { useDumpJobs } from '../hooks/useDumpJobs';
import { useCanAct } from '../hooks/useCanAct';
import { DumpProgressList } from './DumpProgressList';
import { DumpRecordsTable } from './DumpRecordsTable';
import { ErrorMessage } from './ErrorMessage';

export function VmDumps({ vmId, vmName, running }: { vmId: string; vmName: string; running: boolean }) {
  const { canAct } = useCanAct();
  const [records, refetch] = useQuery({ query: VmDumpsQuery, variables: { id: vmId } });
  const refresh = useCallback(() => refetch({ requestPolicy: 'network-only' }), [refetch]);
  const { jobs, error } = useDumpJobs(useCallback((j: { vmId: string }) => j.vmId === vmId && refresh(), [vmId, refresh]));
  const rows = useMemo(() => progressRows(jobs, vmId), [jobs, vmId]);
  const [trigger, runTrigger] = useMutation(TriggerDumpsMutation);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const dumpNow = async () => {
    setMessage(null);
    const r = await runTrigger({ vmIds: [vmId] });
    if (r.error || !r.data) setMessage({ ok: false, text: `The dump could not be started: ${describeError(r.error) ?? 'no answer'}` });
    else if (r.data.triggerDumps.refused.length) setMessage({ ok: false, text: `Not dumped: ${r.data.triggerDumps.refused[0]!.reason}` });
    else setMessage({ ok: true, text: r.data.triggerDumps.message });
  };

  return (
    <section aria-labelledby="vm-dumps-title">
      <div className="toolbar">
        <h2 className="toolbar-title" id="vm-dumps-title">
          Memory dumps
        </h2>
        {canAct ? (
          <button type="button" onClick={dumpNow} disabled={!running || trigger.fetching || rows.some(isActive)} title={running ? undefined : 'Only a running VM can be dumped'}>
            Dump memory of {vmName}
          </button>
        ) : null}
      </div>
      {message ? (
        <p className={message.ok ? 'notice-ok' : 'error'} role="status">
          {message.text}
        </p>
      ) : null}
      <ErrorMessage error={error} context="Live dump progress" />
      {rows.length ? <DumpProgressList jobs={rows} canAct={canAct} hideVm /> : null}
      <ErrorMessage error={records.error} context="Error loading this VM's dumps" />
      {records.data?.vm ? <DumpRecordsTable records={records.data.vm.dumps} canAct={canAct} caption={`Memory dumps of ${vmName}, newest first`} hideVm /> : null}
    </section>
  );
}
