// Inventory: the libvirt hosts and every VM on them, with stable ids, and who owns each VM.
//
// Tenancy — the one API for scoping anything per VM (dumps, migration contexts, …). A caller is a
// `Principal` (lib/auth.ts: REST handlers get `principal`, GraphQL resolvers `ctx.principal`);
// `principal.scope` null means it sees every VM. On `services.vms`:
//   vms.resolveFor(principal, ref): Vm         — id, uuid or name → the VM, or 404 "VM … not found"
//                                                exactly as for an unknown VM when outside the scope
//                                                (400 invalid ref; 409 a name on several hosts,
//                                                counting only visible VMs)
//   vms.listFor(principal, filter?): Vm[]       — the VMs the caller may see (what `["all"]` means)
//   vms.owns(principal, vm | vmId): boolean     — whether the caller's scope owns that VM
//   vms.scopeFilter(scope): (vmId) => boolean   — the same test, built once for many VMs (a tick,
//                                                a page of records keyed by vm id)
//   vms.ownerOf(vmId): VmOwner | null           — the owner (user, userId, group, groupId, source)
// E.g. dumps: `POST /trigger` → `vm_ids.map((r) => vms.resolveFor(principal, r))`, `["all"]` →
// `vms.listFor(principal)`; records/status → keep rows where `vms.owns(principal, row.vmId)`.
// Migrations: `GET /vm-contexts/{vm_name}` → `vms.resolveFor(principal, vm_name)` first (404 in the
// family body), the list → filter by `vms.owns(principal, …)`; subscriptions filter likewise.
import type { Feature } from '../../lib/module.js';
import { chooseHostUris, createHostService, type HostService } from './hosts.js';
import { createLeaseService, type LeaseService } from './leases.js';
import { createVmService, type InventoryTopics, type VmService } from './vms.js';
import './graphql/host.js';
import './graphql/vm.js';

declare module '../../lib/module.js' {
  interface Services {
    hosts: HostService;
    vms: VmService;
    /** which replica collects which host; `hostLeases.owns(hostId)`: run a host's dumps and jobs here? */
    hostLeases: LeaseService;
  }
}

/**
 * A lease lasts LEASE_TTL minus one lease round and one tick: a dead owner's last renewal can be up
 * to a round old, and the next owner needs a round to claim and a tick to sample, so the gap in a
 * VM's samples stays within LEASE_TTL.
 */
function leaseTiming(ttlSec: number, pollSec: number) {
  const roundMs = Math.min(pollSec, ttlSec / 4) * 1000;
  return { roundMs, ttlMs: Math.max((ttlSec * 1000) / 2, ttlSec * 1000 - roundMs - pollSec * 1000) };
}

export const inventory: Feature = {
  name: 'inventory',
  create({ config, db, bus, log }) {
    const hosts = createHostService({ prisma: db.prisma, log: log.child({ part: 'hosts' }), timeoutMs: config.LIBVIRT_TIMEOUT * 1000, probeMs: config.POLL_INTERVAL * 1000 });
    const hostLeases = createLeaseService({
      prisma: db.prisma,
      log: log.child({ part: 'leases' }),
      hostIds: () => hosts.list().map((h) => h.id),
      // One process on its embedded PostgreSQL needs no leases; replicas share a DATABASE_URL.
      enabled: !!config.DATABASE_URL,
      ...leaseTiming(config.LEASE_TTL, config.POLL_INTERVAL),
    });
    // With Redis, the owner announces a VM's change to every replica once; without it each replica
    // announces what it sees to its own subscribers.
    const vms = createVmService({
      prisma: db.prisma,
      pubsub: bus.topics<InventoryTopics>(),
      hosts,
      owns: bus.distributed ? hostLeases.holds : () => true,
      log: log.child({ part: 'inventory' }),
    });
    let loaded = false;
    return {
      services: { hosts, vms, hostLeases },
      async start() {
        await hosts.register(await chooseHostUris(config, log.child({ part: 'hosts' })));
        await vms.start(config.INVENTORY_INTERVAL * 1000);
        await hosts.connectAll();
        await hostLeases.start();
        loaded = true;
      },
      readiness: () => ({
        ready: loaded,
        degraded: hosts.list().some((h) => !h.connected),
        detail: {
          inventory: loaded,
          hosts: hosts.list().map((h) => ({ name: h.name, connected: h.connected, demo: h.demo, error: h.lastError })),
          leases: hostLeases.status(),
        },
      }),
      async stop() {
        loaded = false;
        await hostLeases.stop();
        vms.stop();
        await hosts.stop();
      },
    };
  },
};

export type { Host, HostService } from './hosts.js';
export type { LeaseService } from './leases.js';
export type { Vm, VmService } from './vms.js';
/** The GraphQL types other features extend or return (Vm.latest, Vm.history, MetricSnapshot.state). */
export { VmRef, VmStateEnum } from './graphql/vm.js';
