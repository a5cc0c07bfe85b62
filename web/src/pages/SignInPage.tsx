// Sign in with an API token; it is checked by one cheap query before it is kept for the session.
import { useState, type FormEvent } from 'react';
import { verifyToken, type ServerInfoResult } from '../lib/session';

export function SignInPage({ onSignedIn }: { onSignedIn: (token: string, info: ServerInfoResult) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setChecking(true);
    try {
      const info = await verifyToken(token.trim());
      onSignedIn(token.trim(), info);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setChecking(false);
    }
  };

  return (
    <main className="sign-in" id="main">
      <form className="panel" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to vmpulse</h1>
        <p className="muted">
          Paste an API token. The first start of the server prints an admin token and saves it as <code>admin-token</code> in its data
          directory; admins create more on the Tokens page.
        </p>
        <div className="field">
          <label htmlFor="token">API token</label>
          <input
            id="token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'sign-in-error' : undefined}
          />
        </div>
        {error ? (
          <p id="sign-in-error" className="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={checking || !token.trim()}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
