// The VM dropdown of the seed's /resource-monitoring page, filled by one query.
import { useQuery } from 'urql';
import { VmListQuery } from '../operations/vm';
import { ErrorMessage } from './ErrorMessage';

export function VmSelector({ value, onChange }: { value: string | null; onChange: (id: string) => void }) {
  const [{ data, fetching, error }] = useQuery({ query: VmListQuery });
  const vms = [...(data?.vms ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div className="field inline">
      <label htmlFor="vm-select">Virtual machine</label>
      <select id="vm-select" value={value ?? ''} onChange={(e) => onChange(e.target.value)} disabled={fetching && !data}>
        {value === null ? <option value="">{fetching ? 'Loading VMs…' : 'Choose a VM'}</option> : null}
        {vms.map((vm) => (
          <option key={vm.id} value={vm.id}>
            {vm.name} — {vm.state} ({vm.host.name})
          </option>
        ))}
      </select>
      <ErrorMessage error={error} context="Error loading VMs" />
    </div>
  );
}
