// Builds the service layer that GraphQL and REST both call.
import type { Config } from '../config.js';
import type { Database } from '../lib/db.js';
import type { Logger } from '../lib/logger.js';
import type { PubSub } from '../lib/pubsub.js';
import { createHostService } from './hosts.js';
import { createTokenService } from './tokens.js';
import { createVmService } from './vms.js';

export const version = '0.1.0';

export function createServices(deps: { config: Config; db: Database; pubsub: PubSub; log: Logger }) {
  const { config, db, pubsub, log } = deps;
  const hosts = createHostService({ prisma: db.prisma, log: log.child({ part: 'hosts' }), timeoutMs: config.LIBVIRT_TIMEOUT * 1000 });
  const vms = createVmService({ prisma: db.prisma, pubsub, hosts, log: log.child({ part: 'inventory' }) });
  const tokens = createTokenService({
    prisma: db.prisma,
    log: log.child({ part: 'auth' }),
    authEnabled: config.AUTH === 'on',
    adminToken: config.VMPULSE_ADMIN_TOKEN,
  });
  return { version, config, db, pubsub, hosts, vms, tokens };
}

export type Services = ReturnType<typeof createServices>;
