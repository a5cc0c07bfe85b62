// The one event bus: in-process by default, Redis when REDIS_URL is set so every replica sees every
// event. It knows no topic: each feature declares its topic map beside the service that publishes
// and takes a typed view with `bus.topics<Map>()`. Topics are named `entity:event`.
import { createPubSub, type PubSub } from 'graphql-yoga';

/** A topic → publish arguments map, as graphql-yoga's pubsub types it. */
export type TopicMap = { [topic: string]: [] | [unknown] | [number | string, unknown] };

export type { PubSub };

export interface EventBus {
  /** A typed view of the bus for one feature's topics. */
  topics<T extends TopicMap>(): PubSub<T>;
  close(): Promise<void>;
}

/** JSON that keeps BigInt exact across Redis. */
const serializer = {
  stringify: (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $bigint: x.toString() } : x)),
  parse: (s: string) =>
    JSON.parse(s, (_k, x: unknown) =>
      x && typeof x === 'object' && '$bigint' in x && Object.keys(x).length === 1 ? BigInt((x as { $bigint: string }).$bigint) : x,
    ),
};

export async function createEventBus(redisUrl: string | undefined): Promise<EventBus> {
  if (!redisUrl) {
    const pubsub = createPubSub<TopicMap>();
    return { topics: <T extends TopicMap>() => pubsub as unknown as PubSub<T>, close: async () => {} };
  }
  const [{ createRedisEventTarget }, { Redis }] = await Promise.all([import('@graphql-yoga/redis-event-target'), import('ioredis')]);
  const publishClient = new Redis(redisUrl);
  const subscribeClient = new Redis(redisUrl);
  const pubsub = createPubSub<TopicMap>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient, serializer }) });
  return {
    topics: <T extends TopicMap>() => pubsub as unknown as PubSub<T>,
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
