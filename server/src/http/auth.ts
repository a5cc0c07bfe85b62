// Authentication first: an onRequest hook checks the token of every route that needs one (REST by
// the route's role, /graphql for any valid token) before the body is read or the query looked at,
// and attaches the caller to the request. Failed attempts are counted per client address; past
// the limit, that address gets 429 (with Retry-After) before its tokens are even looked up, so a
// flood of guesses costs no database lookups.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
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

const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 100_000;

/**
 * Failed authentications per client address in fixed one-minute windows. Synchronous and
 * allocation-free on the hot path (an authenticated request only reads one Map entry).
 */
function createFailureCounter(perWindow: number) {
  const windows = new Map<string, { start: number; count: number }>();
  const live = (ip: string, now: number) => {
    const w = windows.get(ip);
    if (w && now - w.start >= WINDOW_MS) windows.delete(ip);
    return w && now - w.start < WINDOW_MS ? w : undefined;
  };
  return {
    /** seconds until the address may try again; 0 when it may now */
    blockedFor(ip: string, now = Date.now()): number {
      if (windows.size === 0) return 0;
      const w = live(ip, now);
      return w && w.count >= perWindow ? Math.max(1, Math.ceil((w.start + WINDOW_MS - now) / 1000)) : 0;
    },
    fail(ip: string, now = Date.now()) {
      const w = live(ip, now);
      if (w) w.count++;
      else {
        // Bounded: a spray from many addresses cannot grow it without end.
        if (windows.size >= MAX_ADDRESSES) windows.clear();
        windows.set(ip, { start: now, count: 1 });
      }
    },
  };
}

const BAD_TARGET = Symbol.for('vmpulse.badRequestTarget');

type BadTarget = { status: number; message: string };
/** Marks a request whose target cannot be routed (see rewriteUrl in server.ts): answered by the first hook. */
export const markBadTarget = (raw: object, status = 400, message = 'malformed request target') =>
  ((raw as { [BAD_TARGET]?: BadTarget })[BAD_TARGET] = { status, message });

export function registerAuth(app: FastifyInstance, deps: { authorize: Authorize; failuresPerMinute: number }) {
  const { authorize } = deps;
  const failures = createFailureCounter(deps.failuresPerMinute);

  app.decorateRequest('principal', null);
  // Callback style, not async: routes that need no token pay no promise.
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const bad = (request.raw as { [BAD_TARGET]?: BadTarget })[BAD_TARGET];
    if (bad) return done(new EdgeError(bad.status, bad.message, {}, bad.status === 414 ? 'http.url_length' : 'http.bad_request'));
    const need = request.routeOptions.config.auth;
    if (!need || (need === 'graphql' && isGraphiqlPage(request))) return done();
    const blocked = failures.blockedFor(request.ip);
    if (blocked) {
      return done(new EdgeError(429, `too many failed authentications from this address; retry in ${blocked} s`, { 'Retry-After': String(blocked) }, 'http.auth_failures'));
    }
    authorize(request.headers.authorization, need === 'graphql' ? 'viewer' : need).then(
      (principal) => {
        request.principal = principal;
        done();
      },
      (err: unknown) => {
        if (err instanceof AppError && err.status === 401) failures.fail(request.ip);
        done(err as Error);
      },
    );
  });
}
