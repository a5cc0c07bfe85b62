// Inventory: the libvirt hosts and every VM on them, with stable ids.
import type { Feature } from '../../lib/module.js';
import { chooseHostUris, createHostService, type HostService } from './hosts.js';
import { createVmService, type InventoryTopics, type VmService } from './vms.js';
import './graphql/host.js';
import './graphql/vm.js';

declare module '../../lib/module.js' {
  interface Services {
    hosts: HostService;
    vms: VmService;
  }
}

export const inventory: Feature = {
  name: 'inventory',
  create({ config, db, bus, log }) {
    const hosts = createHostService({ prisma: db.prisma, log: log.child({ part: 'hosts' }), timeoutMs: config.LIBVIRT_TIMEOUT * 1000 });
    const vms = createVmService({ prisma: db.prisma, pubsub: bus.topics<InventoryTopics>(), hosts, log: log.child({ part: 'inventory' }) });
    let loaded = false;
    return {
      services: { hosts, vms },
      async start() {
        await hosts.register(await chooseHostUris(config, log.child({ part: 'hosts' })));
        await vms.start(config.INVENTORY_INTERVAL * 1000);
        await hosts.connectAll();
        loaded = true;
      },
      readiness: () => ({
        ready: loaded,
        detail: { inventory: loaded, hosts: hosts.list().map((h) => ({ name: h.name, connected: h.connected, demo: h.demo, error: h.lastError })) },
      }),
      async stop() {
        loaded = false;
        vms.stop();
        await hosts.stop();
      },
    };
  },
};

export type { Host, HostService } from './hosts.js';
export type { Vm, VmService, VmStateChange } from './vms.js';
/** The GraphQL types other features extend or return (Vm.latest, Vm.history, MetricSnapshot.state). */
export { VmRef, VmStateEnum } from './graphql/vm.js';
