// Token management for admins: list, create with a role and an optional owner scope (the secret is
// shown once), revoke.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { CreateTokenMutation, RevokeTokenMutation, TokensQuery } from '../operations/tokens';
import type { Role } from '../gql/graphql';
import { formatClock } from '../lib/format';
import { isForbidden } from '../lib/errors';
import { ErrorMessage } from '../components/ErrorMessage';
import { TableHead } from '../components/TableHead';

const ROLES: Role[] = ['viewer', 'operator', 'admin'];

export function TokensPage() {
  const [list, refetch] = useQuery({ query: TokensQuery });
  const [created, setCreated] = useState<{ name: string; role: Role; token: string } | null>(null);

  if (isForbidden(list.error)) {
    return (
      <section aria-labelledby="tokens-title">
        <h1 id="tokens-title">API tokens</h1>
        <p className="error" role="alert">
          Token management needs an admin token; yours has a lower role.
        </p>
      </section>
    );
  }

  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">API tokens</h1>
      <CreateTokenForm
        onCreated={(c) => {
          setCreated(c);
          refetch({ requestPolicy: 'network-only' });
        }}
      />
      {created ? (
        <div className="panel created-token" role="status" aria-live="polite">
          <p>
            New <strong>{created.role}</strong> token <strong>{created.name}</strong>. It is shown only now: copy it and keep it safe.
          </p>
          <p>
            <code data-testid="created-token">{created.token}</code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created.token)}>
              Copy
            </button>{' '}
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </p>
        </div>
      ) : null}
      <ErrorMessage error={list.error} context="Error loading tokens" />
      <TokensTable tokens={list.data?.tokens ?? []} onChanged={() => refetch({ requestPolicy: 'network-only' })} />
    </section>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (c: { name: string; role: Role; token: string }) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [scopeUser, setScopeUser] = useState('');
  const [scopeGroup, setScopeGroup] = useState('');
  const [result, create] = useMutation(CreateTokenMutation);
  const scoped = role !== 'admin' && (scopeUser.trim() || scopeGroup.trim());
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const scope = scoped ? { user: scopeUser.trim() || null, group: scopeGroup.trim() || null } : null;
    const r = await create({ name: name.trim(), role, scope });
    if (r.data) {
      onCreated({ name: r.data.createToken.apiToken.name, role: r.data.createToken.apiToken.role, token: r.data.createToken.token });
      setName('');
      setScopeUser('');
      setScopeGroup('');
    }
  };
  return (
    <form className="panel inline-form" onSubmit={submit} aria-labelledby="create-token-title">
      <h2 id="create-token-title">Create a token</h2>
      <div className="field">
        <label htmlFor="token-name">Name</label>
        <input id="token-name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. grafana" />
      </div>
      <div className="field">
        <label htmlFor="token-role">Role</label>
        <select id="token-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="token-scope-user">Owner user</label>
        <input id="token-scope-user" value={scopeUser} disabled={role === 'admin'} aria-describedby="token-scope-help" onChange={(e) => setScopeUser(e.target.value)} placeholder="any" />
      </div>
      <div className="field">
        <label htmlFor="token-scope-group">Owner group / project</label>
        <input id="token-scope-group" value={scopeGroup} disabled={role === 'admin'} aria-describedby="token-scope-help" onChange={(e) => setScopeGroup(e.target.value)} placeholder="any" />
      </div>
      <p id="token-scope-help" className="muted">
        Scope: the token sees only VMs whose owner matches (name or id). Empty: every VM. Admin tokens see every VM.
      </p>
      <button type="submit" disabled={result.fetching || !name.trim()}>
        Create token
      </button>
      <ErrorMessage error={result.error} context="Could not create the token" />
    </form>
  );
}

type TokenRow = {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  scope?: { user?: string | null; group?: string | null } | null;
  createdAt: string;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
};

/** "user alice · group eng", or "all VMs". */
const scopeText = (s: TokenRow['scope']) => (s ? [s.user ? `user ${s.user}` : '', s.group ? `group ${s.group}` : ''].filter(Boolean).join(' · ') : 'all VMs');

function TokensTable({ tokens, onChanged }: { tokens: TokenRow[]; onChanged: () => void }) {
  const [confirming, setConfirming] = useState<string | null>(null);
  const [result, revoke] = useMutation(RevokeTokenMutation);
  const doRevoke = async (id: string) => {
    const r = await revoke({ id });
    setConfirming(null);
    if (!r.error) onChanged();
  };
  return (
    <div className="table-wrap">
      <ErrorMessage error={result.error} context="Could not revoke the token" />
      <table aria-label="API tokens">
        <TableHead columns={['Name', 'Prefix', 'Role', 'Scope', 'Created', 'Last used', 'Status', <span key="actions" className="sr-only">Actions</span>]} />
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id}>
              <th scope="row">{t.name}</th>
              <td>
                <code>{t.prefix}…</code>
              </td>
              <td>{t.role}</td>
              <td>{scopeText(t.scope)}</td>
              <td>{new Date(t.createdAt).toLocaleString()}</td>
              <td>{t.lastUsedAt ? formatClock(t.lastUsedAt) : '—'}</td>
              <td>{t.revokedAt ? <span className="state state-shutoff">revoked</span> : <span className="state state-running">active</span>}</td>
              <td>
                {t.revokedAt ? null : confirming === t.id ? (
                  <>
                    <button type="button" className="danger" onClick={() => void doRevoke(t.id)} disabled={result.fetching}>
                      Confirm revoke
                    </button>{' '}
                    <button type="button" onClick={() => setConfirming(null)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <button type="button" onClick={() => setConfirming(t.id)} aria-label={`Revoke token ${t.name}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
