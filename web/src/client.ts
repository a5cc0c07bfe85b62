// urql over HTTP for one-shot queries and mutations, graphql-ws for every live subscription.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { setConnection } from './lib/connection-status';

export interface ApiClients {
  urql: Client;
  ws: WsClient;
  dispose(): void;
}

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}/graphql`;
}

/** Backoff between reconnect attempts: 0.5 s, 1 s, 2 s, then 3 s, with a little jitter. */
function retryDelayMs(retries: number): number {
  return Math.min(500 * 2 ** retries, 3000) + Math.floor(Math.random() * 250);
}

/** One pair of clients per signed-in token; `getToken` is read at every (re)connect. */
export function createApiClients(getToken: () => string | null): ApiClients {
  let everConnected = false;
  const ws = createWsClient({
    url: wsUrl(),
    lazy: false,
    retryAttempts: Infinity,
    // Retry after any close (server restarts close with 1001/1006) except a refused token.
    shouldRetry: (event) => !(isCloseEvent(event) && event.code === 4403),
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, retryDelayMs(retries))),
    connectionParams: () => {
      const token = getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      connecting: () => setConnection(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        everConnected = true;
        setConnection('connected');
      },
      closed: (event) => {
        if (isCloseEvent(event) && event.code === 4403) setConnection('forbidden');
        else setConnection(everConnected ? 'reconnecting' : 'connecting');
      },
    },
  });

  const urql = new Client({
    url: '/graphql',
    // Nothing is polled: one-shot reads go to the network, live data comes by subscription.
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: () => {
      const token = getToken();
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      return { headers };
    },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return {
    urql,
    ws,
    dispose() {
      void ws.dispose();
    },
  };
}

function isCloseEvent(e: unknown): e is { code: number; reason: string } {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'number';
}
