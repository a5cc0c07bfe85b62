// The one event bus: in-process by default; with REDIS_URL every event is delivered in this process
// at once AND fanned out to the other replicas through Redis, so a replica keeps serving its own
// subscribers while Redis is down and cross-replica events resume by themselves when it is back
// (publishes during the outage are dropped and counted, never queued or thrown).
// It knows no topic: each feature declares its topic map beside the service that publishes
// and takes a typed view with `bus.topics<Map>()`. Topics are named `entity:event`.
import { randomBytes } from 'node:crypto';
import { createPubSub, type PubSub } from 'graphql-yoga';
import type { Logger } from './logger.js';

/** A topic → publish arguments map, as graphql-yoga's pubsub types it. */
type TopicMap = { [topic: string]: [] | [unknown] | [number | string, unknown] };

export type { PubSub };

/** A pubsub that never leaves this process and can say how many listen to a topic here. */
export type LocalPubSub<T extends TopicMap> = PubSub<T> & {
  /** how many in this process listen to the topic, or to one id of a per-id topic */
  listeners(topic: keyof T & string, id?: number | string): number;
};

interface BusStatus {
  /** 'local' without REDIS_URL */
  mode: 'local' | 'redis';
  /** Redis reachable now (always true in local mode) */
  connected: boolean;
  /** events not sent to other replicas because Redis was unreachable */
  dropped: number;
}

export interface EventBus {
  /** A typed view of the bus for one feature's topics: delivered here and, with Redis, to every replica. */
  topics<T extends TopicMap>(): PubSub<T>;
  /** A typed view that never leaves this process (events each replica derives for itself). */
  local<T extends TopicMap>(): LocalPubSub<T>;
  /** true when events reach other replicas (REDIS_URL) */
  readonly distributed: boolean;
  status(): BusStatus;
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

/** An EventTarget that knows how many listeners each topic has. */
class CountingEventTarget extends EventTarget {
  private readonly counts = new Map<string, number>();
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean) {
    super.addEventListener(type, listener, options);
    if (listener) this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean) {
    super.removeEventListener(type, listener, options);
    if (!listener) return;
    const n = (this.counts.get(type) ?? 1) - 1;
    if (n > 0) this.counts.set(type, n);
    else this.counts.delete(type);
  }
  listeners(type: string): number {
    return this.counts.get(type) ?? 0;
  }
}

/**
 * graphql-yoga's pubsub for events that stay in this process, skipping an event nobody listens to:
 * 'vm:metrics' is published per VM per tick and most VMs have no subscriber, so no event object is
 * built and nothing is dispatched for them (topic names as yoga's createPubSub makes them).
 * @internal exported for tests only: the metrics service's test runs on it
 */
export function createLocalPubSub<T extends TopicMap>(): LocalPubSub<T> {
  const target = new CountingEventTarget();
  const inner = createPubSub<TopicMap>({ eventTarget: target });
  const publish = inner.publish as (routingKey: string, ...args: unknown[]) => void;
  const listeners = (topic: string, id?: unknown) => target.listeners(id === undefined ? topic : `${topic}:${String(id)}`);
  return {
    subscribe: inner.subscribe,
    publish: ((routingKey: string, ...args: unknown[]) => {
      if (!listeners(routingKey, args[1] === undefined ? undefined : args[0])) return;
      publish(routingKey, ...args);
    }) as PubSub<TopicMap>['publish'],
    listeners,
  } as unknown as LocalPubSub<T>;
}

export async function createEventBus(redisUrl: string | undefined, log?: Logger): Promise<EventBus> {
  const localBus = createLocalPubSub();
  if (!redisUrl) {
    return {
      topics: <T extends TopicMap>() => localBus as unknown as PubSub<T>,
      local: <T extends TopicMap>() => localBus as unknown as LocalPubSub<T>,
      distributed: false,
      status: () => ({ mode: 'local', connected: true, dropped: 0 }),
      close: async () => {},
    };
  }
  const { Redis } = await import('ioredis');
  // Retry forever, at most every 2 s; a publish while disconnected fails at once instead of queueing.
  const retryStrategy = (times: number) => Math.min(times * 200, 2000);
  const publishClient = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy });
  const subscribeClient = new Redis(redisUrl, { retryStrategy, maxRetriesPerRequest: null });
  let dropped = 0;
  let warned = false;
  for (const [name, client] of [['publish', publishClient], ['subscribe', subscribeClient]] as const) {
    client.on('error', (err: Error) => {
      if (warned) return;
      warned = true;
      log?.warn({ client: name, err: err.message }, 'Redis unreachable: events stay on this replica until it is back');
    });
    client.on('ready', () => {
      if (warned) log?.info({ client: name }, 'Redis reachable again');
      warned = false;
    });
  }
  const target = createReplicatedEventTarget({ publishClient, subscribeClient, onDrop: () => dropped++ });
  const pubsub = createPubSub<TopicMap>({ eventTarget: target });
  return {
    topics: <T extends TopicMap>() => pubsub as unknown as PubSub<T>,
    local: <T extends TopicMap>() => localBus as unknown as LocalPubSub<T>,
    distributed: true,
    status: () => ({ mode: 'redis', connected: publishClient.status === 'ready' && subscribeClient.status === 'ready', dropped }),
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

interface RedisLike {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', cb: (channel: string, message: string) => void): unknown;
}

/**
 * An EventTarget for graphql-yoga's createPubSub: listeners of this process get each event at once
 * (the same object, as in-process), other replicas get it through Redis. A message carries its
 * origin so a replica does not deliver its own events twice.
 */
function createReplicatedEventTarget(deps: { publishClient: RedisLike; subscribeClient: RedisLike; onDrop(): void }): EventTarget {
  const { publishClient, subscribeClient, onDrop } = deps;
  const origin = randomBytes(8).toString('hex');
  const here = new EventTarget();
  const listeners = new Map<string, number>();
  subscribeClient.on('message', (channel, message) => {
    const nl = message.indexOf('\n');
    if (nl < 0 || message.slice(0, nl) === origin || !listeners.has(channel)) return;
    let detail: unknown;
    try {
      detail = serializer.parse(message.slice(nl + 1));
    } catch {
      return; // not one of ours
    }
    here.dispatchEvent(new CustomEvent(channel, { detail }));
  });
  const listenerOf = (l: EventListenerOrEventListenerObject | null) => l;
  return {
    addEventListener(topic: string, l: EventListenerOrEventListenerObject | null) {
      if (!l) return;
      here.addEventListener(topic, listenerOf(l));
      const n = listeners.get(topic) ?? 0;
      listeners.set(topic, n + 1);
      // ioredis re-subscribes every channel by itself after a reconnect.
      if (n === 0) subscribeClient.subscribe(topic).catch(() => {});
    },
    removeEventListener(topic: string, l: EventListenerOrEventListenerObject | null) {
      if (!l) return;
      here.removeEventListener(topic, listenerOf(l));
      const n = (listeners.get(topic) ?? 1) - 1;
      if (n > 0) listeners.set(topic, n);
      else {
        listeners.delete(topic);
        subscribeClient.unsubscribe(topic).catch(() => {});
      }
    },
    dispatchEvent(event: Event) {
      const detail = (event as CustomEvent).detail;
      here.dispatchEvent(new CustomEvent(event.type, { detail }));
      let payload: string;
      try {
        payload = `${origin}\n${serializer.stringify(detail ?? null)}`;
      } catch {
        onDrop();
        return true;
      }
      publishClient.publish(event.type, payload).catch(onDrop);
      return true;
    },
  };
}
