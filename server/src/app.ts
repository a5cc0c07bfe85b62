// buildApp(): the shared parts (database, event bus), the features in order, and the HTTP edge.
// It knows no feature by its details: it starts them in order, stops them in reverse, and hands
// the edge what they declare.
import type { Config } from './config.js';
import { features } from './features/index.js';
import { buildSchema } from './graphql/schema.js';
import { createGraphqlEdge } from './http/graphql.js';
import { createHttpEdge } from './http/server.js';
import { openDatabase, type Database } from './lib/db.js';
import type { Logger } from './lib/logger.js';
import type { FeatureInstance, Services } from './lib/module.js';
import { createLiveGauges } from './lib/gauges.js';
import { createLimitCounters } from './lib/limits.js';
import { createEventBus } from './lib/pubsub.js';

export interface App {
  services: Services;
  db: Database;
  /** resolves with the port actually bound (PORT=0 picks a free one) */
  start(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
}

export async function buildApp(config: Config, log: Logger): Promise<App> {
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, log: log.child({ part: 'db' }) });
  const bus = await createEventBus(config.REDIS_URL, log.child({ part: 'bus' }));
  const limits = createLimitCounters();
  const gauges = createLiveGauges();
  const services = {} as Services;
  const instances: FeatureInstance[] = [];
  for (const feature of features) {
    const instance = await feature.create({ config, db, bus, log: log.child({ feature: feature.name }), limits, gauges, services });
    Object.assign(services, instance.services);
    instances.push(instance);
  }

  let started = false;
  const authorize = services.tokens.authorize;
  const graphql = createGraphqlEdge({ schema: buildSchema(), services, authorize, log: log.child({ part: 'graphql' }), config, limits, gauges });
  const edge = createHttpEdge({
    config,
    limits,
    log,
    authorize,
    rest: instances.flatMap((i) => i.rest ?? []),
    graphql,
    readiness: async () => {
      const database = await db.ping();
      const checks = await Promise.all(instances.map((i) => i.readiness?.() ?? { ready: true, detail: {} }));
      const dbStatus = db.status();
      return {
        ready: started && database && checks.every((c) => c.ready),
        degraded: checks.some((c) => c.degraded),
        detail: Object.assign(
          { database, ...(dbStatus.embedded ? { databaseRestarts: dbStatus.restarts, databaseRestarting: dbStatus.restarting } : {}), bus: bus.status() },
          ...checks.map((c) => c.detail),
        ),
      };
    },
  });

  return {
    services,
    db,
    async start() {
      for (const i of instances) await i.start?.();
      started = true;
      const address = await edge.listen();
      log.info({ url: address.url, graphql: `${address.url}/graphql` }, 'vmpulse listening');
      return address;
    },
    async stop() {
      started = false;
      await edge.close();
      for (const i of [...instances].reverse()) await i.stop?.();
      await bus.close();
      await db.close();
    },
  };
}
