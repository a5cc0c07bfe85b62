// Session (token in sessionStorage), API clients per token, and the page shell.
import { useCallback, useEffect, useState } from 'react';
import { Provider } from 'urql';
import { createApiClients, type ApiClients } from './client';
import { clearToken, readToken, saveToken } from './lib/session';
import { setConnection } from './lib/connection-status';
import { useTheme } from './hooks/useTheme';
import { SignInPage } from './pages/SignInPage';
import { AppShell } from './components/AppShell';
import { ThemeToggle } from './components/ThemeToggle';

export function App() {
  const [token, setToken] = useState<string | null>(readToken);
  const { theme, toggle } = useTheme();

  const [clients, setClients] = useState<ApiClients | null>(null);
  useEffect(() => {
    if (!token) return;
    const c = createApiClients(() => readToken());
    setClients(c);
    return () => {
      c.dispose();
      setClients(null);
    };
  }, [token]);

  const signOut = useCallback(() => {
    clearToken();
    setConnection('connecting');
    setToken(null);
  }, []);

  if (token && !clients) return null;
  if (!token || !clients) {
    return (
      <>
        <div className="corner-toggle">
          <ThemeToggle theme={theme} onToggle={toggle} />
        </div>
        <SignInPage
          onSignedIn={(t) => {
            saveToken(t);
            setToken(t);
          }}
        />
      </>
    );
  }
  return (
    <Provider value={clients.urql}>
      <AppShell theme={theme} onToggleTheme={toggle} onSignOut={signOut} />
    </Provider>
  );
}
