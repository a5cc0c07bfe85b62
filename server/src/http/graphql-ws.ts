// graphql-ws on the HTTP server's upgrade requests to the GraphQL path, glued to `ws` here rather
// than through graphql-ws/use/ws so that every message passes our limits before graphql-ws reads it:
// - before connection_init is acknowledged a message may be WS_MAX_PAYLOAD_BEFORE_INIT bytes, after
//   it WS_MAX_PAYLOAD (ws itself refuses a frame over the larger one from its header, unread): 1009;
// - connection_init must come within WS_INIT_TIMEOUT (4408) and carry a valid token (4403);
// - WS_MAX_SOCKETS in total and WS_MAX_SOCKETS_PER_TOKEN per token: 1013 (try again later);
// - WS_MAX_SUBSCRIPTIONS_PER_SOCKET: the next subscribe gets an error message, the socket stays open;
// - a subscribe whose document does not parse or validate gets an error message for that id only;
// - a socket whose token is revoked is closed 4403 (the tokens service tells us when).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ConnectionInitMessage } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Config } from '../config.js';
import type { GraphQLContext } from '../graphql/builder.js';
import type { Authorize, Principal } from '../lib/auth.js';
import { databaseUnavailable } from '../lib/db.js';
import { AppError } from '../lib/errors.js';
import type { LiveGauges } from '../lib/gauges.js';
import type { LimitCounters } from '../lib/limits.js';
import type { ClientErrorLog } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logger.js';
import type { Services } from '../lib/module.js';
import { isSharedJson, sharedJsonText } from '../lib/shared-json.js';
import { asBadRequest, limitError } from './graphql-limits.js';
import { deflateOnTheLoop } from './ws-deflate.js';

export type WsLimits = Pick<
  Config,
  'WS_MAX_PAYLOAD_BEFORE_INIT' | 'WS_MAX_PAYLOAD' | 'WS_INIT_TIMEOUT' | 'WS_MAX_SOCKETS' | 'WS_MAX_SOCKETS_PER_TOKEN' | 'WS_MAX_SUBSCRIPTIONS_PER_SOCKET'
>;

interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
  principal?: Principal;
  acknowledged: boolean;
  /** the first close code we sent: later closes (graphql-ws' own 4403 after ours) are ignored */
  closedWith?: number;
  release?: () => void;
}

/** Who a socket or stream counts against: the token row, or the named token (VMPULSE_ADMIN_TOKEN, AUTH=off). */
export const principalKey = (p: Principal) => (p.tokenId !== null ? `token:${p.tokenId}` : `name:${p.name}`);

const KEEPALIVE_MS = 12_000;
const LARGE_MESSAGE_CHARS = 64 * 1024;
/**
 * Shared values (lib/shared-json.ts) in outgoing messages: graphql-ws' JSON.stringify writes a
 * numbered mark in their place (its replacer), and the socket's send splices their JSON text, encoded
 * once, in place of the mark. graphql-ws stringifies each message right before it sends it, so a
 * mark lives only between the two calls. The per-process nonce keeps any string from outside (a VM
 * name, say) from passing for a mark.
 */
function createSharedSplicer() {
  const nonce = randomBytes(8).toString('hex');
  const marked = new Map<number, object>();
  const MARK = new RegExp(`"\\\\u0000${nonce}:(\\d+)"`, 'g');
  let seq = 0;
  return {
    replacer(_key: string, value: unknown): unknown {
      if (!isSharedJson(value)) return value;
      if (marked.size > 10_000) marked.clear(); // never reached: every mark is spliced right away
      const id = ++seq;
      marked.set(id, value);
      return `\u0000${nonce}:${id}`;
    },
    /** a message stringified but not yet spliced holds a shared value (it is large) */
    pending: () => marked.size > 0,
    splice(data: string): string {
      if (marked.size === 0) return data;
      return data.replace(MARK, (_m, id: string) => {
        const value = marked.get(Number(id));
        marked.delete(Number(id));
        return value ? sharedJsonText(value) : 'null';
      });
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: yoga's instance type is generic over contexts we do not name here
type AnyYoga = YogaServerInstance<any, any>;

export function attachGraphqlWs(deps: {
  server: Server;
  path: string;
  yoga: AnyYoga;
  services: Services;
  authorize: Authorize;
  limits: WsLimits;
  counters: LimitCounters;
  gauges: LiveGauges;
  clientError: ClientErrorLog;
  log: Logger;
}) {
  const { yoga, services, authorize, limits, counters, clientError, log } = deps;
  const socketsPerToken = new Map<string, number>();
  /** the operations of each acknowledged socket, for the subscriptions gauge */
  const live = new Set<{ subscriptions: Record<string, unknown> }>();

  const close = (extra: Extra, code: number, reason: string) => {
    if (extra.closedWith !== undefined) return;
    extra.closedWith = code;
    extra.socket.close(code, reason);
  };

  const shared = createSharedSplicer();

  const gql = makeServer<ConnectionInitMessage['payload'], Extra>({
    jsonMessageReplacer: shared.replacer,
    connectionInitWaitTimeout: limits.WS_INIT_TIMEOUT * 1000,

    onConnect: async (ctx) => {
      let principal: Principal;
      try {
        principal = await authorize(String(ctx.connectionParams?.authorization ?? ''), 'viewer');
      } catch (err) {
        const down = databaseUnavailable(err);
        if (down) {
          // Not the client's fault: "try again later", with the reason, so it reconnects.
          clientError('ws.unavailable', {}, `graphql-ws connection_init: ${down.message}`, 'error');
          close(ctx.extra, 1013, down.message.slice(0, 120));
          return false;
        }
        if (!(err instanceof AppError)) {
          log.error({ err }, 'graphql-ws authentication failed');
          close(ctx.extra, 1011, 'Internal server error');
          return false;
        }
        clientError('ws.unauthenticated', {}, `graphql-ws connection_init refused: ${err.message}`);
        return false; // 4403
      }
      const key = principalKey(principal);
      const open = socketsPerToken.get(key) ?? 0;
      if (open >= limits.WS_MAX_SOCKETS_PER_TOKEN) {
        counters.hit('ws.sockets_per_token');
        clientError('ws.limit', { limit: 'ws.sockets_per_token', token: principal.name }, 'graphql-ws socket refused');
        close(ctx.extra, 1013, `too many sockets for this token (max ${limits.WS_MAX_SOCKETS_PER_TOKEN})`);
        return false;
      }
      socketsPerToken.set(key, open + 1);
      ctx.extra.principal = principal;
      ctx.extra.acknowledged = true;
      live.add(ctx);
      ctx.extra.release = services.tokens.holdWhileValid(principal, () => close(ctx.extra, CloseCode.Forbidden, 'token revoked'));
      return true;
    },

    onClose: (ctx) => {
      live.delete(ctx);
      ctx.extra.release?.();
      if (!ctx.extra.principal) return;
      const key = principalKey(ctx.extra.principal);
      const left = (socketsPerToken.get(key) ?? 1) - 1;
      if (left > 0) socketsPerToken.set(key, left);
      else socketsPerToken.delete(key);
    },

    onSubscribe: async (ctx, _id, payload) => {
      // ctx.subscriptions already holds this one.
      if (Object.keys(ctx.subscriptions).length > limits.WS_MAX_SUBSCRIPTIONS_PER_SOCKET) {
        counters.hit('ws.subscriptions_per_socket');
        clientError('ws.limit', { limit: 'ws.subscriptions_per_socket' }, 'graphql-ws subscribe refused');
        return [limitError('ws.subscriptions_per_socket', `too many operations on this socket (max ${limits.WS_MAX_SUBSCRIPTIONS_PER_SOCKET}, WS_MAX_SUBSCRIPTIONS_PER_SOCKET)`, 429)];
      }
      try {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.request,
          principal: ctx.extra.principal,
          connectionParams: ctx.connectionParams,
          params: payload,
        });
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (err) {
          if (err instanceof GraphQLError) return [err.extensions.code === 'LIMIT_EXCEEDED' ? err : asBadRequest(err, 'GRAPHQL_PARSE_FAILED')];
          throw err;
        }
        const errors = validate(schema, document);
        if (errors.length) return [...errors];
        const contextValue = (await contextFactory()) as unknown as GraphQLContext;
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
        return args;
      } catch (err) {
        log.error({ err }, 'graphql-ws subscribe failed');
        return [new GraphQLError('Unexpected error.')];
      }
    },
    execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => never }).execute(args),
    subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => never }).subscribe(args),
  });

  // Compressed frames: a 1,000-VM fleetMetrics message is ~220 KB of JSON and compresses ~10×.
  // With context takeover every message is deflated (the threshold applies only without it), by
  // ws-deflate.ts: small ones on the event loop, large ones on the libuv pool.
  // A 2 KiB deflate window and memLevel 5: at zlib's defaults (15-bit window, memLevel 8) ws' stream
  // per socket held 33 MiB for 105 bench clients, 13 MiB with these (heap snapshots, bench/README.md
  // "Memory"); ws-deflate keeps only the 2 KiB window per socket. A 1,000-VM fleet message compresses
  // 5.3× instead of 5.5×. Client messages are inflated by ws, on the pool.
  const wss = new WebSocketServer({
    server: deps.server,
    path: deps.path,
    maxPayload: Math.max(limits.WS_MAX_PAYLOAD_BEFORE_INIT, limits.WS_MAX_PAYLOAD),
    perMessageDeflate: { threshold: 4096, serverMaxWindowBits: 11, zlibDeflateOptions: { level: 1, memLevel: 5 } },
    handleProtocols,
  });
  deps.gauges.register({ name: 'graphql_ws_sockets', help: 'graphql-ws sockets open (acknowledged or not yet).', read: () => wss.clients.size });
  deps.gauges.register({
    name: 'graphql_ws_subscriptions',
    help: 'GraphQL operations running on graphql-ws sockets.',
    read: () => {
      let n = 0;
      for (const ctx of live) n += Object.keys(ctx.subscriptions).length;
      return n;
    },
  });

  wss.on('connection', (socket, request) => {
    deflateOnTheLoop(socket);
    const extra: Extra = { socket, request, acknowledged: false };
    socket.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        const limit = extra.acknowledged ? 'ws.payload' : 'ws.payload_before_init';
        counters.hit(limit);
        clientError('ws.limit', { limit }, 'graphql-ws message too big (closed 1009)');
      } else clientError('ws.protocol', { code: err.code }, `graphql-ws socket error: ${err.message}`);
    });
    if (wss.clients.size > limits.WS_MAX_SOCKETS) {
      counters.hit('ws.sockets');
      clientError('ws.limit', { limit: 'ws.sockets' }, 'graphql-ws socket refused: server at WS_MAX_SOCKETS');
      close(extra, 1013, `the server has its maximum of ${limits.WS_MAX_SOCKETS} sockets open; try again later`);
      return;
    }

    let pongWait: NodeJS.Timeout | undefined;
    const keepAlive = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEPALIVE_MS);
      socket.once('pong', () => clearTimeout(pongWait));
      socket.ping();
    }, KEEPALIVE_MS);

    const closed = gql.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            const go = () => {
              const text = shared.splice(data);
              if (socket.readyState !== socket.OPEN) return resolve();
              socket.send(text, (err) => (err ? reject(err) : resolve()));
            };
            // A large message (the fleet overview, to every fleet subscriber in the same tick) is
            // spliced, encoded and handed to deflate in a task of its own per socket, so one tick's
            // fan-out does not hold the event loop for all of them at once. graphql-ws waits for
            // each send before the next message of the same operation: their order is kept.
            if (data.length >= LARGE_MESSAGE_CHARS || shared.pending()) setImmediate(go);
            else go();
          }),
        close: (code = 1000, reason = '') => {
          if (code === CloseCode.ConnectionInitialisationTimeout) {
            counters.hit('ws.init_timeout');
            clientError('ws.limit', { limit: 'ws.init_timeout' }, 'graphql-ws socket sent no connection_init in time (closed 4408)');
          }
          close(extra, code, reason);
        },
        onMessage: (cb) =>
          socket.on('message', (data: RawData) => {
            if (!extra.acknowledged && byteLength(data) > limits.WS_MAX_PAYLOAD_BEFORE_INIT) {
              counters.hit('ws.payload_before_init');
              clientError('ws.limit', { limit: 'ws.payload_before_init' }, 'graphql-ws message too big before connection_init (closed 1009)');
              close(extra, 1009, `messages before connection_init are at most ${limits.WS_MAX_PAYLOAD_BEFORE_INIT} bytes`);
              return;
            }
            cb(String(data)).catch((err: unknown) => {
              log.error({ err }, 'graphql-ws message handling failed');
              close(extra, CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      extra,
    );

    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      clearTimeout(pongWait);
      void closed(code, String(reason));
    });
  });

  return {
    async close() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
