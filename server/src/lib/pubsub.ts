// The one event bus. In-process by default; Redis when REDIS_URL is set so every replica sees every event.
// Topics are named `entity:event`. Only services publish.
import { createPubSub } from 'graphql-yoga';
import type { VmStateChange } from '../services/vms.js';

export type Topics = {
  'vm:stateChanged': [VmStateChange];
};

export type PubSub = ReturnType<typeof createPubSub<Topics>>;

export async function createEventBus(redisUrl: string | undefined): Promise<{ pubsub: PubSub; close(): Promise<void> }> {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), close: async () => {} };
  const [{ createRedisEventTarget }, { Redis }] = await Promise.all([
    import('@graphql-yoga/redis-event-target'),
    import('ioredis'),
  ]);
  const publishClient = new Redis(redisUrl);
  const subscribeClient = new Redis(redisUrl);
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient });
  return {
    pubsub: createPubSub<Topics>({ eventTarget }),
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
