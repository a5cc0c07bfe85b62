// The HTTP edge, on Fastify: one port for GraphQL (HTTP, SSE, graphql-ws), the features' REST
// routes with their OpenAPI document, health checks and the SPA. Official plugins do CORS,
// compression, static files and rate limits. Built apart from listening so tests can start it on
// port 0.
//
// A request meets, in order: the connection cap and Node's header/request timeouts; the target
// check (a malformed path or request line is a 400); CORS; authentication (before any body is
// read); the per-token rate limit; validation by the route's schemas; the handler. Every error
// on the way is answered in the body of the URL's endpoint family (errors.ts).
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { bearerToken, hashToken, type Authorize } from '../lib/auth.js';
import type { LimitCounters } from '../lib/limits.js';
import { createThrottledLog } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logger.js';
import type { RouteFamily } from '../lib/rest.js';
import { markBadTarget, registerAuth } from './auth.js';
import { createErrorBodies, createErrorHandling, EdgeError, isApiPath, pathOf } from './errors.js';
import type { GraphqlEdge } from './graphql.js';
import { registerGraphql } from './graphql-mount.js';
import { BUFFER_FROM, serializeReply } from './json.js';
import { registerCompression } from './compress.js';
import { registerOpenapi, registerOpenapiRoutes } from './openapi.js';
import { registerRest } from './rest.js';
import { registerSpa } from './spa.js';

/** What /readyz answers: ready or not, and the details behind it. */
export type Readiness = () => Promise<{ ready: boolean; degraded?: boolean; detail: Record<string, unknown> }>;

/**
 * An origin-form target ("/path?query") is used as it is; an absolute-form one ("http://host/path",
 * as proxies send) by its path. Anything else ("http://[", "*", junk) is marked and answered 400
 * by the first hook: routing never sees it; so is a target longer than HTTP_MAX_URL (414).
 */
const rewriteUrlUpTo = (maxBytes: number) => (req: IncomingMessage): string => {
  const url = req.url ?? '/';
  if (url.length > maxBytes) {
    markBadTarget(req, 414, `request target longer than ${maxBytes} bytes`);
    // Routed by its first whole segments only, so the answer still comes in its family's body.
    const head = url.slice(0, 128);
    return head.charCodeAt(0) === 0x2f ? head.slice(0, head.lastIndexOf('/') + 1) : '/';
  }
  if (url.charCodeAt(0) === 0x2f) return url;
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.pathname + u.search;
  } catch {
    // not a URL
  }
  markBadTarget(req);
  return '/';
};

/** Rate-limit key of a token: its SHA-256, computed once per token (bounded cache). */
function createTokenKeys() {
  const keys = new Map<string, string>();
  return (token: string) => {
    let key = keys.get(token);
    if (key === undefined) {
      if (keys.size >= 10_000) keys.clear();
      key = `token:${hashToken(token)}`;
      keys.set(token, key);
    }
    return key;
  };
}

const CORS_METHODS = ['GET', 'POST', 'OPTIONS'];
const CORS_HEADERS = ['Authorization', 'Content-Type', 'Accept'];

export function createHttpEdge(deps: { config: Config; log: Logger; limits: LimitCounters; authorize: Authorize; rest: RouteFamily[]; graphql: GraphqlEdge; readiness: Readiness }) {
  const { config, limits, graphql, readiness } = deps;
  const log = deps.log.child({ part: 'http' });
  const errors = createErrorHandling({ errorBody: createErrorBodies(deps.rest), limits, log, clientError: createThrottledLog(log) });

  const headersTimeout = Math.round(config.HTTP_HEADERS_TIMEOUT * 1000);
  // Node refuses a header timeout longer than the request timeout.
  const requestTimeout = Math.max(headersTimeout, Math.round(config.HTTP_REQUEST_TIMEOUT * 1000));
  const app = Fastify({
    // Requests are not logged one by one (that costs more than serving vm-stats); errors are, throttled.
    logger: false,
    bodyLimit: config.HTTP_BODY_LIMIT,
    requestTimeout,
    keepAliveTimeout: Math.round(config.HTTP_KEEP_ALIVE_TIMEOUT * 1000),
    // Check the timeouts every second, not Node's default 30 s, so a slow client is cut off on time.
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval: 1000 },
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    rewriteUrl: rewriteUrlUpTo(config.HTTP_MAX_URL),
    frameworkErrors: errors.onFrameworkError,
    clientErrorHandler: errors.onClientError,
  });
  // Past the cap Node closes a new connection at once, before reading a byte of it.
  app.server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  app.server.on('drop', () => limits.hit('http.connections'));
  graphql.attach(app.server);

  const tokenKey = createTokenKeys();

  async function build() {
    app.setValidatorCompiler(validatorCompiler);
    // Answers are written by toJson (exact BigInt) whether or not the route has a response schema.
    // (Fastify's types ask for a string; its reply sends a Buffer as it is.)
    const serialize = serializeReply as (body: unknown) => string;
    app.setSerializerCompiler(() => serialize);
    app.setReplySerializer(serialize);
    app.setErrorHandler(errors.onError);

    const origins = config.CORS_ORIGINS ?? [];
    if (origins.length) {
      const any = origins.includes('*');
      const allowed = new Set(origins);
      await app.register(fastifyCors, {
        delegator(request, callback) {
          const origin = request.headers.origin;
          if (!origin || !(any || allowed.has(origin)) || !isApiPath(pathOf(request.url))) return callback(null, { origin: false });
          callback(null, { origin: any ? '*' : origin, methods: CORS_METHODS, allowedHeaders: CORS_HEADERS, exposedHeaders: ['Content-Encoding'], maxAge: 600, strictPreflight: false });
        },
      });
    }

    await registerCompression(app, { largeJsonBytes: BUFFER_FROM });

    // Per token (its hash), or per client address without one; only routes that need a token.
    await app.register(fastifyRateLimit, {
      global: true,
      hook: 'onRequest',
      max: config.HTTP_RATE_LIMIT,
      timeWindow: 60_000,
      keyGenerator(request) {
        const token = request.principal ? bearerToken(request.headers.authorization) : null;
        return token ? tokenKey(token) : `ip:${request.ip}`;
      },
      allowList: (request) => !request.routeOptions.config.auth,
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      errorResponseBuilder: (_request, ctx) => new EdgeError(429, `rate limit of ${ctx.max} requests per minute reached; retry in ${ctx.after}`, {}, 'http.rate_limit'),
    });

    // Global onRequest hooks run before the route-level ones (the rate limit above): the caller is
    // known before it is counted. This one also answers a marked bad request target.
    registerAuth(app, { authorize: deps.authorize, failuresPerMinute: config.HTTP_AUTH_FAILURE_LIMIT });

    await registerOpenapi(app, deps.rest);
    await registerRest(app, deps.rest);
    await registerOpenapiRoutes(app);
    await registerGraphql(app, graphql, { bodyLimit: config.GRAPHQL_BODY_LIMIT });

    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      // Degraded (a libvirt host down) still serves: 200, saying which host and why.
      const { ready, degraded, detail } = await readiness();
      return reply.code(ready ? 200 : 503).send({ status: !ready ? 'not ready' : degraded ? 'degraded' : 'ready', ...detail });
    });

    app.setNotFoundHandler(await registerSpa(app));
    await app.ready();
  }

  return {
    /** Resolves with the port actually bound (PORT=0 picks a free one). */
    async listen(): Promise<{ port: number; url: string }> {
      await build();
      await app.listen({ port: config.PORT, host: config.HOST });
      const { port } = app.server.address() as AddressInfo;
      return { port, url: `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}` };
    },
    async close() {
      await graphql.close();
      await app.close();
    },
  };
}
