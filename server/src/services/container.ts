// Builds the service layer that GraphQL and REST both call.
import { createCollectorLoop } from '../collector/loop.js';
import { safeConfig, type Config } from '../config.js';
import type { Database } from '../lib/db.js';
import type { Logger } from '../lib/logger.js';
import type { PubSub } from '../lib/pubsub.js';
import { createMetricStore } from '../stores/select.js';
import { createCollectorService } from './collector.js';
import { createHostService } from './hosts.js';
import { createMetricsService } from './metrics.js';
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
  const store = createMetricStore(config, db, log.child({ part: 'store' }));
  const metrics = createMetricsService({ pubsub, store, vms, log: log.child({ part: 'metrics' }) });
  const loop = createCollectorLoop({
    hosts,
    vms,
    metrics,
    log: log.child({ part: 'collector' }),
    opts: { intervalMs: config.POLL_INTERVAL * 1000, timeoutMs: config.LIBVIRT_TIMEOUT * 1000, deviceCacheTtlMs: config.DEVICE_CACHE_TTL * 1000 },
  });
  const collector = createCollectorService({ loop, hosts, metrics, pubsub, intervalSec: config.POLL_INTERVAL });
  return { version, config, safeConfig: () => safeConfig(config), db, pubsub, hosts, vms, tokens, store, metrics, collector };
}

export type Services = ReturnType<typeof createServices>;
