// Header (brand, navigation, demo badge, theme, sign out), the reconnect banner, and the routed page.
import { useQuery } from 'urql';
import { ServerInfoQuery } from '../operations/server';
import type { Theme } from '../hooks/useTheme';
import { Link, useLocation } from '../lib/router';
import { ConnectionBanner } from './ConnectionBanner';
import { DemoBadge } from './DemoBadge';
import { ErrorBoundary } from './ErrorBoundary';
import { LiveIndicator } from './LiveIndicator';
import { NavBar } from './NavBar';
import { ThemeToggle } from './ThemeToggle';
import { Routes } from './Routes';
import { PulseIcon } from './Icons';

interface Props {
  theme: Theme;
  onToggleTheme: () => void;
  onSignOut: () => void;
}

export function AppShell({ theme, onToggleTheme, onSignOut }: Props) {
  const [{ data }] = useQuery({ query: ServerInfoQuery });
  const { path } = useLocation();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/" className="brand" aria-label="vmpulse home">
          <PulseIcon /> vmpulse
        </Link>
        <NavBar role={data?.me.role} />
        <div className="header-tools">
          <DemoBadge demo={data?.serverInfo.demo} />
          <LiveIndicator />
          {data ? (
            <span className="muted" title={`signed in with the token "${data.me.name}"`}>
              {data.me.role}
            </span>
          ) : null}
          <ThemeToggle theme={theme} onToggle={onToggleTheme} />
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <ConnectionBanner onSignOut={onSignOut} />
      <main id="main" tabIndex={-1}>
        <ErrorBoundary key={path}>
          <Routes />
        </ErrorBoundary>
      </main>
      <footer className="muted app-footer">vmpulse {data?.serverInfo.version ?? ''}</footer>
    </>
  );
}
