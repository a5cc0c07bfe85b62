// The GraphQL mount: graphql-yoga for HTTP (queries, mutations, SSE, GraphiQL) and graphql-ws for
// WebSockets on the same path. The caller is authenticated before anything of the request is read
// (a stranger gets 401 and learns nothing of the schema); every document is bounded before it is
// validated or run (graphql-limits.ts); SSE streams are bounded per token and end when their token
// is revoked. Resolvers see the principal and the services, nothing else.
import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, isAsyncIterable, Repeater, type Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { GraphQLContext } from '../graphql/builder.js';
import type { Authorize, Principal } from '../lib/auth.js';
import { databaseUnavailable } from '../lib/db.js';
import { AppError } from '../lib/errors.js';
import type { LiveGauges } from '../lib/gauges.js';
import type { LimitCounters } from '../lib/limits.js';
import { createThrottledLog, type ClientErrorLog } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logger.js';
import type { Services } from '../lib/module.js';
import { asBadRequest, createDocumentLimits, limitError } from './graphql-limits.js';
import { attachGraphqlWs, principalKey, type WsLimits } from './graphql-ws.js';

export const GRAPHQL_PATH = '/graphql';

export type GraphqlLimits = WsLimits &
  Pick<Config, 'GRAPHQL_MAX_TOKENS' | 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_MAX_DIRECTIVES' | 'GRAPHQL_MAX_COST' | 'SSE_MAX_STREAMS_PER_TOKEN'>;

/**
 * What the HTTP edge hands yoga per request. An edge that authenticates first (Fastify's onRequest
 * hook) passes the caller as `principal`; without it, yoga's first hook checks the header itself.
 */
export interface GraphqlServerContext {
  req?: IncomingMessage;
  reply?: unknown;
  principal?: Principal;
}

/** AppError → GraphQLError with its code and HTTP status; anything else stays masked by yoga. */
function toGraphQLError(err: unknown): GraphQLError | undefined {
  const raw = err instanceof GraphQLError ? err.originalError : err;
  const original = databaseUnavailable(raw) ?? raw;
  if (original instanceof AppError) {
    return new GraphQLError(original.message, {
      nodes: err instanceof GraphQLError ? err.nodes : undefined,
      path: err instanceof GraphQLError ? err.path : undefined,
      extensions: { code: original.code, http: { status: original.status, spec: false } },
    });
  }
  return undefined;
}

/** Authentication before the body is read: 401 with `WWW-Authenticate`, or the caller remembered for the context. */
function useAuthenticateFirst(authorize: Authorize, principals: WeakMap<Request, Principal>, clientError: ClientErrorLog): Plugin<GraphqlServerContext> {
  return {
    onRequest({ request, serverContext, endResponse, fetchAPI }) {
      if (request.method === 'OPTIONS') return; // CORS preflights carry no token
      const given = (serverContext as GraphqlServerContext).principal;
      if (given) {
        principals.set(request, given);
        return;
      }
      return authorize(request.headers.get('authorization'), 'viewer').then(
        (principal) => void principals.set(request, principal),
        (thrown: unknown) => {
          const err = databaseUnavailable(thrown) ?? thrown;
          if (!(err instanceof AppError)) throw err;
          clientError('graphql.unauthenticated', { status: err.status }, `GraphQL request refused: ${err.message}`, err.status === 503 ? 'error' : 'info');
          endResponse(
            new fetchAPI.Response(JSON.stringify({ errors: [{ message: err.message, extensions: { code: err.code } }] }), {
              status: err.status,
              headers: { 'content-type': 'application/json; charset=utf-8', ...(err.status === 401 ? { 'www-authenticate': 'Bearer realm="vmpulse"' } : {}) },
            }),
          );
        },
      );
    },
  };
}

/**
 * Subscriptions over SSE: at most SSE_MAX_STREAMS_PER_TOKEN open per token (HTTP 429 past it), each
 * ended when its token is revoked. graphql-ws operations are bounded per socket instead.
 */
function useSseStreams(services: Services, maxPerToken: number, counters: LimitCounters, clientError: ClientErrorLog, gauges: LiveGauges): Plugin {
  const open = new Map<string, number>();
  gauges.register({ name: 'graphql_sse_streams', help: 'GraphQL subscriptions open over SSE.', read: () => [...open.values()].reduce((a, n) => a + n, 0) });
  const release = (key: string) => {
    const left = (open.get(key) ?? 1) - 1;
    if (left > 0) open.set(key, left);
    else open.delete(key);
  };
  return {
    onSubscribe({ args }) {
      const ctx = args.contextValue as unknown as GraphQLContext & { request?: Request };
      if (!ctx.request) return; // graphql-ws
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          const key = principalKey(ctx.principal);
          if ((open.get(key) ?? 0) >= maxPerToken) {
            void result[Symbol.asyncIterator]().return?.();
            counters.hit('sse.streams_per_token');
            clientError('sse.limit', { limit: 'sse.streams_per_token', token: ctx.principal.name }, 'SSE subscription refused');
            setResult({ errors: [limitError('sse.streams_per_token', `too many open SSE streams for this token (max ${maxPerToken}, SSE_MAX_STREAMS_PER_TOKEN)`, 429)] });
            return;
          }
          open.set(key, (open.get(key) ?? 0) + 1);
          setResult(
            new Repeater(async (push, stop) => {
              const it = result[Symbol.asyncIterator]();
              const unhold = services.tokens.holdWhileValid(ctx.principal, () => stop());
              const ended = stop.then(() => ({ done: true as const, value: undefined }));
              try {
                for (;;) {
                  const r = await Promise.race([it.next(), ended]);
                  if (r.done) break;
                  await push(r.value);
                }
              } finally {
                unhold();
                release(key);
                void it.return?.();
                stop();
              }
            }),
          );
        },
      };
    },
  };
}

export function createGraphqlEdge(deps: {
  schema: GraphQLSchema;
  services: Services;
  authorize: Authorize;
  log: Logger;
  config: GraphqlLimits;
  limits: LimitCounters;
  gauges: LiveGauges;
}) {
  const { schema, services, authorize, log, config, limits, gauges } = deps;
  const clientError = createThrottledLog(log);
  const principals = new WeakMap<Request, Principal>();
  const documentLimits = createDocumentLimits(
    {
      maxTokens: config.GRAPHQL_MAX_TOKENS,
      maxDepth: config.GRAPHQL_MAX_DEPTH,
      maxAliases: config.GRAPHQL_MAX_ALIASES,
      maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
      maxCost: config.GRAPHQL_MAX_COST,
    },
    limits,
    clientError,
  );

  const yoga = createYoga<GraphqlServerContext & { connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    cors: false, // the edge handles CORS for REST and GraphQL alike (CORS_ORIGINS)
    batching: false,
    graphiql: { title: 'vmpulse GraphQL', subscriptionsProtocol: 'WS' },
    // Parse errors are not cached: each one is counted and logged like the first.
    parserAndValidationCache: { errorCache: { get: () => undefined, set: () => {} } },
    plugins: [useAuthenticateFirst(authorize, principals, clientError), documentLimits.plugin, useSseStreams(services, config.SSE_MAX_STREAMS_PER_TOKEN, limits, clientError, gauges)],
    logging: {
      debug: (...a) => log.debug(a.map(String).join(' ')),
      info: (...a) => log.info(a.map(String).join(' ')),
      warn: (...a) => log.warn(a.map(String).join(' ')),
      // Errors users cause are logged one line each (throttled), unexpected ones in full, in maskError.
      error: (...a) => log.debug({ err: a[0] }, 'graphql'),
    },
    maskedErrors: {
      maskError: (err, message) => {
        const mapped = toGraphQLError(err);
        if (mapped) {
          const code = mapped.extensions.code;
          clientError(code === 'UNAVAILABLE' ? 'graphql.unavailable' : 'graphql.request', { code, path: mapped.path?.join('.') }, mapped.message, code === 'UNAVAILABLE' ? 'error' : 'info');
          return mapped;
        }
        const original = err instanceof GraphQLError ? err.originalError : err;
        if (err instanceof GraphQLError && (!original || original instanceof GraphQLError)) {
          const code = err.extensions.code;
          // A document that does not parse (or is refused while parsing): logged where it was found,
          // answered 400 whatever the Accept header (yoga would answer application/json with 200).
          if ((code === 'GRAPHQL_PARSE_FAILED' || code === 'LIMIT_EXCEEDED') && (err.extensions.http as { spec?: boolean } | undefined)?.spec) {
            return asBadRequest(err, String(code));
          }
          if (code === 'LIMIT_EXCEEDED') return err; // logged where it was refused
          // Meant for the client: refused arguments, roles, unknown VMs.
          clientError('graphql.request', { code, path: err.path?.join('.') }, err.message);
          return err;
        }
        log.error({ err: original }, 'unexpected error in a resolver');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    context: ({ request, principal }): GraphQLContext => {
      const caller = principal ?? principals.get(request);
      if (!caller) throw new GraphQLError('not authenticated', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      return { principal: caller, services };
    },
  });

  let ws: ReturnType<typeof attachGraphqlWs> | undefined;

  return {
    yoga,
    /** graphql-ws on the HTTP server's upgrade requests to the GraphQL path. */
    attach(server: Server) {
      ws = attachGraphqlWs({ server, path: GRAPHQL_PATH, yoga, services, authorize, limits: config, counters: limits, gauges, clientError, log });
    },
    async close() {
      await ws?.close();
    },
  };
}

export type GraphqlEdge = ReturnType<typeof createGraphqlEdge>;
