// The one event bus. In-process by default; Redis when REDIS_URL is set so every replica sees every event.
// Topics are named `entity:event`. Only services publish.
import { createPubSub } from 'graphql-yoga';
import type { MetricSnapshot } from '../collector/snapshot.js';
import type { CollectorStatus } from '../services/collector.js';
import type { FleetTick } from '../services/metrics.js';
import type { VmStateChange } from '../services/vms.js';

export type Topics = {
  'vm:stateChanged': [VmStateChange];
  'vm:metrics': [vmId: number, snapshot: MetricSnapshot];
  'fleet:metrics': [FleetTick];
  'collector:status': [CollectorStatus];
};

export type PubSub = ReturnType<typeof createPubSub<Topics>>;

/** JSON that keeps BigInt exact across Redis. */
const serializer = {
  stringify: (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $bigint: x.toString() } : x)),
  parse: (s: string) =>
    JSON.parse(s, (_k, x: unknown) =>
      x && typeof x === 'object' && '$bigint' in x && Object.keys(x).length === 1 ? BigInt((x as { $bigint: string }).$bigint) : x,
    ),
};

export async function createEventBus(redisUrl: string | undefined): Promise<{ pubsub: PubSub; close(): Promise<void> }> {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), close: async () => {} };
  const [{ createRedisEventTarget }, { Redis }] = await Promise.all([
    import('@graphql-yoga/redis-event-target'),
    import('ioredis'),
  ]);
  const publishClient = new Redis(redisUrl);
  const subscribeClient = new Redis(redisUrl);
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient, serializer });
  return {
    pubsub: createPubSub<Topics>({ eventTarget }),
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
