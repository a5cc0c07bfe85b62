// A small REST router: each seed family of endpoints declares its routes and its error body.
// A shim parses, calls a service, shapes JSON. It holds no logic.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Authorize } from '../lib/auth.js';
import type { Route, RouteFamily } from '../lib/rest.js';
import { sendJson } from './send.js';

interface Compiled {
  route: Route;
  family: RouteFamily;
  re: RegExp;
  keys: string[];
}

function compile(family: RouteFamily, route: Route): Compiled {
  const keys: string[] = [];
  const re = new RegExp(
    '^' + route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:(\w+)/g, (_m, k: string) => (keys.push(k), '/([^/]+)')) + '/?$',
  );
  return { route, family, re, keys };
}

export function createRestHandler(families: RouteFamily[], authorize: Authorize, log: Logger) {
  const compiled = families.flatMap((f) => f.routes.map((r) => compile(f, r)));

  /** Returns false when the path is not a REST path, so the caller can try the next handler. */
  return async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const family = families.find((f) => url.pathname === f.prefix || url.pathname.startsWith(f.prefix + '/'));
    if (!family) return false;
    try {
      let pathMatched = false;
      for (const c of compiled) {
        if (c.family !== family) continue;
        const m = c.re.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (c.route.method !== req.method && !(req.method === 'HEAD' && c.route.method === 'GET')) continue;
        await authorize(req.headers.authorization, c.route.role);
        const params: Record<string, string> = {};
        c.keys.forEach((k, i) => {
          params[k] = safeDecode(m[i + 1]!);
        });
        const body = await c.route.handle({ params, query: url.searchParams, headers: req.headers });
        sendJson(req, res, 200, body);
        return true;
      }
      if (pathMatched) sendJson(req, res, 405, family.errorBody('Method Not Allowed'));
      else sendJson(req, res, 404, family.errorBody('Not Found'));
    } catch (err) {
      if (err instanceof AppError) {
        if (err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
        sendJson(req, res, err.status, family.errorBody(err.message));
      } else {
        log.error({ err, path: url.pathname }, 'REST handler failed');
        sendJson(req, res, 500, family.errorBody('internal error (logged on the server)'));
      }
    }
    return true;
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new AppError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}
