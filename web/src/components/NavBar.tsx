// The main navigation (Tokens only for admins).
import { Link, useLocation } from '../lib/router';

const LINKS = [
  { to: '/', label: 'Fleet', match: (p: string) => p === '/' || p === '/fleet' },
  { to: '/resource-monitoring', label: 'VM metrics', match: (p: string) => p === '/resource-monitoring' || p.startsWith('/vms/') },
  { to: '/dumps', label: 'Memory dumps', match: (p: string) => p === '/dumps' },
  { to: '/migrations', label: 'Migrations', match: (p: string) => p === '/migrations' || p.startsWith('/migrations/') },
  { to: '/collector', label: 'Collector', match: (p: string) => p === '/collector' },
  { to: '/tokens', label: 'Tokens', match: (p: string) => p === '/tokens', adminOnly: true },
];

/** `role` undefined while loading: show everything rather than flicker. */
export function NavBar({ role }: { role?: string }) {
  const { path } = useLocation();
  const links = LINKS.filter((l) => !('adminOnly' in l) || role === undefined || role === 'admin');
  return (
    <nav aria-label="Main">
      <ul className="nav">
        {links.map((l) => (
          <li key={l.to}>
            <Link to={l.to} aria-current={l.match(path) ? 'page' : undefined}>
              {l.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
