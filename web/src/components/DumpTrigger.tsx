// Operators pick running VMs (filter, tick, or all) and a format, then dump them; refusals are listed per VM.
import { useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import type { DumpFormat } from '../gql/graphql';
import { TriggerDumpsMutation } from '../operations/dumps';
import { VmListQuery } from '../operations/vm';
import { describeError } from '../lib/errors';
import { ErrorMessage } from './ErrorMessage';

export function DumpTrigger() {
  const [{ data, error }] = useQuery({ query: VmListQuery });
  const [trigger, runTrigger] = useMutation(TriggerDumpsMutation);
  const [text, setText] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [format, setFormat] = useState<DumpFormat>('ELF');
  const [result, setResult] = useState<{ ok: boolean; text: string; refused: { vmRef: string; reason: string }[] } | null>(null);

  const running = useMemo(() => (data?.vms ?? []).filter((v) => v.state === 'running').sort((a, b) => a.name.localeCompare(b.name)), [data]);
  const shown = useMemo(() => running.filter((v) => `${v.name} ${v.host.name}`.toLowerCase().includes(text.trim().toLowerCase())), [running, text]);
  const names = new Map(running.map((v) => [v.id, v.name]));

  const toggle = (id: string) =>
    setPicked((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const submit = async () => {
    setResult(null);
    const r = await runTrigger({ vmIds: [...picked], format });
    if (r.error || !r.data) {
      setResult({ ok: false, text: `The dumps could not be started: ${describeError(r.error) ?? 'no answer'}`, refused: [] });
      return;
    }
    const b = r.data.triggerDumps;
    setResult({ ok: b.dumps.length > 0, text: b.message, refused: b.refused.map((x) => ({ ...x, vmRef: names.get(x.vmRef) ?? x.vmRef })) });
    setPicked(new Set());
  };

  return (
    <form
      className="panel dump-trigger"
      aria-labelledby="dump-trigger-title"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2 id="dump-trigger-title">Take memory dumps</h2>
      <ErrorMessage error={error} context="Error loading VMs" />
      <div className="filters">
        <div className="field">
          <label htmlFor="dump-vm-filter">Filter running VMs</label>
          <input id="dump-vm-filter" type="search" value={text} placeholder="e.g. web-" onChange={(e) => setText(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="dump-format">Format</label>
          <select id="dump-format" value={format} onChange={(e) => setFormat(e.target.value as DumpFormat)}>
            <option value="ELF">ELF (Volatility, crash)</option>
            <option value="KDUMP_ZLIB">kdump, zlib-compressed</option>
          </select>
        </div>
        <button type="button" onClick={() => setPicked(new Set(shown.map((v) => v.id)))} disabled={shown.length === 0}>
          Select all shown
        </button>
        <button type="button" onClick={() => setPicked(new Set())} disabled={picked.size === 0}>
          Clear
        </button>
      </div>
      <fieldset className="vm-picker">
        <legend>
          Running VMs ({picked.size} of {running.length} selected)
        </legend>
        {shown.length === 0 ? <p className="muted">{data ? 'No running VM matches.' : 'Loading VMs…'}</p> : null}
        <ul>
          {shown.map((v) => (
            <li key={v.id}>
              <label>
                <input type="checkbox" checked={picked.has(v.id)} onChange={() => toggle(v.id)} /> {v.name} <span className="muted">({v.host.name})</span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={picked.size === 0 || trigger.fetching}>
          {trigger.fetching ? 'Starting…' : `Dump ${picked.size || ''} selected`.replace('  ', ' ')}
        </button>
      </div>
      {result ? (
        <div role="status" className={result.ok ? 'notice-ok' : 'error'} data-testid="dump-trigger-result">
          <p>{result.text}</p>
          {result.refused.length ? (
            <ul>
              {result.refused.map((x) => (
                <li key={x.vmRef}>
                  {x.vmRef}: {x.reason}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
