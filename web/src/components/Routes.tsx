import { matchPath, navigate, useLocation } from '../lib/router';
import { FleetPage } from '../pages/FleetPage';
import { VmPage } from '../pages/VmPage';
import { CollectorPage } from '../pages/CollectorPage';
import { TokensPage } from '../pages/TokensPage';
import { DumpsPage } from '../pages/DumpsPage';
import { MigrationsPage } from '../pages/MigrationsPage';
import { MigrationContextPage } from '../pages/MigrationContextPage';
import { NotFoundPage } from '../pages/NotFoundPage';

export function Routes() {
  const { path, query } = useLocation();
  if (path === '/' || path === '/fleet') return <FleetPage />;
  if (path === '/resource-monitoring') {
    // The seed's page: a VM selector, then that VM's metrics (?vm=<id> keeps the choice in the address).
    return <VmPage vmId={query.get('vm')} onSelect={(id) => navigate(`/resource-monitoring?vm=${encodeURIComponent(id)}`)} />;
  }
  const vm = matchPath('/vms/:id', path);
  if (vm) return <VmPage vmId={vm.id!} onSelect={(id) => navigate(`/vms/${encodeURIComponent(id)}`)} />;
  if (path === '/collector') return <CollectorPage />;
  if (path === '/tokens') return <TokensPage />;
  if (path === '/dumps') return <DumpsPage />;
  if (path === '/migrations') return <MigrationsPage />;
  const migration = matchPath('/migrations/:vmName', path);
  if (migration) return <MigrationContextPage key={migration.vmName} vmName={migration.vmName!} />;
  return <NotFoundPage path={path} />;
}
