// How a feature declares its REST routes: schema first. Each route names its params, query, body
// and response as zod schemas; the HTTP edge validates requests with them, the handler is typed by
// them, and the OpenAPI document at /api/openapi.json is generated from them. A handler only
// parses, calls one service function and shapes the answer. Nothing here knows the HTTP framework.
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Principal, Role } from './auth.js';

// ---- error bodies -------------------------------------------------------------------------------

/** The error body one seed documents for its endpoints, and its schema for the OpenAPI document. */
export interface ErrorFamily {
  /** the component name in the OpenAPI document */
  name: string;
  /** a JSON body, or a text body for a family whose `mediaType` is not JSON */
  body(message: string, status?: number): Record<string, unknown> | string;
  /** the media type of the body; JSON when absent */
  mediaType?: string;
  schema: z.ZodType;
}

export const detailErrors: ErrorFamily = {
  name: 'DetailError',
  body: (detail) => ({ detail }),
  schema: z
    .object({ detail: z.string().describe('what went wrong, for people') })
    .meta({ id: 'DetailError', description: 'Error body of /api/telemetry, /api/metrics and /api/memory-dumps (seeds 000–003)' }),
};

export const timestampedErrors: ErrorFamily = {
  name: 'TimestampedError',
  // Seed 004 words its 401 "Authentication required" whatever was wrong with the token.
  body: (error, status) => ({ error: status === 401 ? 'Authentication required' : error, timestamp: new Date().toISOString() }),
  schema: z
    .object({
      error: z.string().describe('what went wrong, for people'),
      timestamp: z.string().meta({ format: 'date-time', description: 'when it happened, ISO 8601 UTC' }),
    })
    .meta({ id: 'TimestampedError', description: 'Error body of /api/v1 (seed 004)' }),
};

/**
 * Plain text, for endpoints whose answer is text (GET /metrics): what Prometheus' own handlers
 * answer on errors, and what `curl` shows a person as it is.
 */
export const textErrors: ErrorFamily = {
  name: 'TextError',
  body: (message) => `${message}\n`,
  mediaType: 'text/plain; charset=utf-8',
  schema: z.string().meta({ id: 'TextError', description: 'Error body of /metrics: one line of text' }),
};

/**
 * The seeds' endpoint families by URL prefix. The edge answers every error under a prefix with
 * that family's body, also for paths no feature serves yet; anything else under /api, /healthz
 * and /readyz gets `{"detail": …}`.
 */
export const ERROR_FAMILIES: readonly { prefix: string; errors: ErrorFamily }[] = [
  { prefix: '/api/telemetry', errors: detailErrors }, // seeds 000, 001
  { prefix: '/api/metrics', errors: detailErrors }, // seed 002
  { prefix: '/api/memory-dumps', errors: detailErrors }, // seed 003
  { prefix: '/api/v1', errors: timestampedErrors }, // seed 004
];

// ---- schema helpers -----------------------------------------------------------------------------

/**
 * A 64-bit counter: a BigInt inside, written as an exact JSON integer literal (never a string,
 * never rounded past 2^53), documented as `integer`/`int64`.
 */
export const int64 = (description: string) => z.bigint().meta({ type: 'integer', format: 'int64', description });

/** An ISO 8601 timestamp string. */
export const isoTimestamp = (description: string) => z.string().meta({ format: 'date-time', description });

// ---- routes -------------------------------------------------------------------------------------

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface RestRequest<P = unknown, Q = unknown, B = unknown> {
  /** path parameters, validated by the route's `params` schema */
  params: P;
  /** query parameters, validated by the route's `query` schema (a repeated parameter is refused) */
  query: Q;
  /** the JSON body, validated by the route's `body` schema */
  body: B;
  /** the authenticated caller */
  principal: Principal;
  /** the request headers, lower-case names (e.g. `accept` for content negotiation) */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RouteSchemas {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** the 200 answer */
  response: z.ZodType;
  /** media types of the 200 answer when it is not JSON (the handler returns a TextAnswer) */
  produces?: readonly string[];
}

/** A 200 answer that is not JSON (e.g. the Prometheus text format): sent as it is, with its media type. */
export class TextAnswer {
  constructor(
    readonly mediaType: string,
    /** a Buffer is sent as it is (one kept for many answers must not change) */
    readonly body: string | Buffer,
  ) {}
}

/**
 * A 200 JSON answer already written as JSON text (e.g. built by PostgreSQL): sent as it is, not
 * parsed and written again. Its text must match the route's response schema, as any answer must
 * (tests check real answers against the OpenAPI document).
 */
export class JsonAnswer {
  constructor(readonly json: string) {}
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDef<S extends RouteSchemas> {
  method: HttpMethod;
  /** e.g. /api/telemetry/vm-stats/:vm_id */
  path: string;
  /** the least role that may call it */
  role: Role;
  /** one line for the API docs */
  summary: string;
  /** units, rules and edge cases, for the API docs */
  description?: string;
  schema: S;
  /** error statuses of its own beyond the edge's (e.g. 409), with what each means, for the API docs */
  errors?: Record<number, string>;
  handle(
    req: RestRequest<Out<S['params']>, Out<S['query']>, Out<S['body']>>,
  ): Out<S['response']> | TextAnswer | FileAnswer | JsonAnswer | Promise<Out<S['response']> | TextAnswer | FileAnswer | JsonAnswer>;
}

/** An answer that is a file: its bytes streamed as they are, with its own headers (Content-Length, …). */
export class FileAnswer {
  constructor(
    readonly stream: Readable,
    readonly contentType: string,
    readonly headers: Record<string, string>,
  ) {}
}

/** A route as the edge sees it: types erased, schemas kept. */
export interface Route {
  method: HttpMethod;
  path: string;
  role: Role;
  summary: string;
  description?: string;
  schema: RouteSchemas;
  errors?: Record<number, string>;
  handle(req: RestRequest): unknown;
}

/** Declares a route; the handler's arguments and answer are typed by its schemas. */
export function defineRoute<S extends RouteSchemas>(def: RouteDef<S>): Route {
  return def as unknown as Route;
}

export interface RouteFamily {
  /** every path under this prefix belongs to this family, for its 404/405 bodies too */
  prefix: string;
  /** the OpenAPI tag the family's routes are listed under */
  tag: string;
  /** the seed (or other document) this family implements, for the API docs */
  description: string;
  /** the error body its seed documents */
  errors: ErrorFamily;
  routes: Route[];
}
