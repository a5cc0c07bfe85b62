// Authentication first: an onRequest hook checks the token of every route that needs one (REST by
// the route's role, /graphql for any valid token) before the body is read or the query looked at,
// and attaches the caller to the request. Failed attempts are counted per client address; past
// the limit, that address gets 429 (with Retry-After) before its tokens are even looked up.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authorize, Principal, Role } from '../lib/auth.js';
import { AppError } from '../lib/errors.js';
import { EdgeError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** who may call: the least REST role, or `graphql` (any valid token; GraphiQL's page is public) */
    auth?: Role | 'graphql';
  }
  interface FastifyRequest {
    /** the authenticated caller; null on routes that need no token */
    principal: Principal | null;
  }
}

/** GET /graphql from a browser with no operation: yoga's GraphiQL page, which needs no token. */
function isGraphiqlPage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const query = request.query as Record<string, unknown>;
  return query.query === undefined && String(request.headers.accept ?? '').includes('text/html');
}

export function registerAuth(app: FastifyInstance, deps: { authorize: Authorize; failuresPerMinute: number }) {
  const { authorize } = deps;
  // The official limiter, used for outcomes only: peek before, count after a failure.
  const failures = app.createRateLimit({ max: deps.failuresPerMinute, timeWindow: 60_000, keyGenerator: (req) => req.ip, allowList: () => false });

  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const need = request.routeOptions.config.auth;
    if (!need) return;
    if (need === 'graphql' && isGraphiqlPage(request)) return;
    const seen = await failures(request, { increment: false });
    if (!seen.isAllowed && seen.isExceeded) {
      const retry = String(Math.max(1, seen.ttlInSeconds));
      throw new EdgeError(429, `too many failed authentications from this address; retry in ${retry} s`, { 'Retry-After': retry }, 'http.auth_failures');
    }
    try {
      request.principal = await authorize(request.headers.authorization, need === 'graphql' ? 'viewer' : need);
    } catch (err) {
      if (err instanceof AppError && err.status === 401) await failures(request);
      throw err;
    }
  });
}
