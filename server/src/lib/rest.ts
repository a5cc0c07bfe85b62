// How a feature declares its REST routes. The HTTP edge registers them; a handler only parses,
// calls one service function and shapes the answer.
import type { IncomingHttpHeaders } from 'node:http';
import type { Role } from './auth.js';

export interface RestRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** e.g. /api/telemetry/vm-stats/:vm_id */
  path: string;
  role: Role;
  handle(req: RestRequest): unknown | Promise<unknown>;
}

export interface RouteFamily {
  /** every path under this prefix belongs to this family, for its 404/405 bodies too */
  prefix: string;
  /** the error body its seed documents */
  errorBody(message: string): unknown;
  routes: Route[];
}
