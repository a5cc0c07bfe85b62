// Every error the edge answers, in the body of the endpoint family the URL belongs to:
// `{"detail": …}` under /api/telemetry, /api/metrics, /api/memory-dumps (and anywhere else under
// /api, /healthz, /readyz and the SPA), `{"error": …, "timestamp": …}` under /api/v1, and a
// GraphQL-shaped `{"errors": [{message, extensions: {code}}]}` on /graphql. A client never sees a
// stack or a file path: unexpected errors are logged in full and answered "internal error".
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { databaseUnavailable } from '../lib/db.js';
import { AppError } from '../lib/errors.js';
import type { LimitCounters } from '../lib/limits.js';
import type { ClientErrorLog } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logger.js';
import { detailErrors, ERROR_FAMILIES, type ErrorFamily, type RouteFamily } from '../lib/rest.js';
import { GRAPHQL_PATH } from './graphql.js';
import { toJson } from './json.js';

/** An error the edge raises itself: a status, a message for the client, and the limit it stands for. */
export class EdgeError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** counted in /api/telemetry/status `limits` */
    readonly limit?: string,
  ) {
    super(message);
  }
}

const GRAPHQL_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'BAD_USER_INPUT',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

const graphqlErrorBody = (status: number, message: string) => ({
  errors: [{ message, extensions: { code: GRAPHQL_CODES[status] ?? 'INTERNAL_SERVER_ERROR' } }],
});

/** The path of a request target, undecoded, without the query. */
export const pathOf = (url: string) => {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
};

const under = (path: string, prefix: string) => path === prefix || (path.startsWith(prefix) && path[prefix.length] === '/');

const isGraphqlPath = (path: string) => under(path, GRAPHQL_PATH);

/** Paths the SPA never answers. */
export const isApiPath = (path: string) => under(path, '/api') || isGraphqlPath(path) || path === '/healthz' || path === '/readyz';

/** Finds the family of a URL: the features' families first, then the seeds' table. */
export function createErrorBodies(families: readonly RouteFamily[]) {
  const table: { prefix: string; errors: ErrorFamily }[] = [...families, ...ERROR_FAMILIES];
  return function errorBody(url: string, status: number, message: string): Record<string, unknown> | string {
    const path = pathOf(url);
    if (isGraphqlPath(path)) return graphqlErrorBody(status, message);
    for (const f of table) if (under(path, f.prefix)) return f.errors.body(message, status);
    return detailErrors.body(message);
  };
}
export type ErrorBodies = ReturnType<typeof createErrorBodies>;

const WHERE = new Map([['params', 'path parameter'], ['querystring', 'query parameter'], ['body', 'body field'], ['headers', 'header']]);

/** "query parameter "limit": must be an integer from 1 to 10000; …" */
function validationMessage(err: FastifyError): string {
  const where = WHERE.get(err.validationContext ?? '') ?? 'request';
  return (err.validation ?? [])
    .slice(0, 5)
    .map((v) => {
      const field = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return field ? `${where} "${field.slice(0, 60)}": ${v.message}` : `${err.validationContext ?? 'request'}: ${v.message}`;
    })
    .join('; ');
}

// Fastify's own client errors, answered with a message of ours (theirs may quote the input).
const FASTIFY_CLIENT_MESSAGES = new Map([
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'the request body is larger than this endpoint accepts'],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'unsupported Content-Type; send application/json'],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'the body does not match its Content-Length'],
  ['FST_ERR_CTP_EMPTY_JSON_BODY', 'the JSON body is empty'],
  ['FST_ERR_CTP_INVALID_JSON_BODY', 'the body is not valid JSON'],
  ['FST_ERR_BAD_URL', 'malformed path: invalid percent-encoding'],
  ['FST_ERR_MAX_PARAM_LENGTH', 'a path segment is too long'],
]);

const LIMIT_OF_CODE = new Map([['FST_ERR_CTP_BODY_TOO_LARGE', 'http.body_size']]);

interface Answer {
  status: number;
  message: string;
  headers: Record<string, string>;
  limit?: string;
  /** not the client's doing: log it in full */
  unexpected: boolean;
}

function classify(err: unknown): Answer {
  const down = databaseUnavailable(err);
  if (down) return { status: down.status, message: down.message, headers: { 'Retry-After': '5' }, unexpected: false };
  if (err instanceof AppError) return { status: err.status, message: err.message, headers: {}, unexpected: false };
  if (err instanceof EdgeError) return { status: err.statusCode, message: err.message, headers: err.headers, limit: err.limit, unexpected: false };
  const e = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(e) || e?.validation) return { status: 400, message: validationMessage(e), headers: {}, unexpected: false };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // A JSON syntax error (secure-json-parse: also a forbidden __proto__ key) carries no code.
    const known = e.code ? FASTIFY_CLIENT_MESSAGES.get(e.code) : e instanceof SyntaxError ? `the body is not valid JSON: ${e.message.slice(0, 80)}` : undefined;
    return { status, message: known ?? STATUS_CODES[status] ?? 'Bad Request', headers: {}, limit: e.code ? LIMIT_OF_CODE.get(e.code) : undefined, unexpected: false };
  }
  return { status: 500, message: 'internal error (logged on the server)', headers: {}, unexpected: true };
}

/** A request whose body was not read: close the connection after the answer instead of reading it. */
const hasUnreadBody = (request: FastifyRequest) =>
  request.body === undefined && (Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined);

export function createErrorHandling(deps: { errorBody: ErrorBodies; limits: LimitCounters; log: Logger; clientError: ClientErrorLog }) {
  const { errorBody, limits, log, clientError } = deps;

  function send(request: FastifyRequest, reply: FastifyReply, a: Answer) {
    if (a.limit) limits.hit(a.limit);
    // 503 (the database unreachable or full) is not the client's doing: logged as an error, throttled alike.
    if (!a.unexpected) clientError(`http.${a.status}`, { status: a.status, method: request.method, path: pathOf(request.url).slice(0, 200), ip: request.ip }, a.message, a.status === 503 ? 'error' : 'info');
    if (a.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    if (hasUnreadBody(request) || a.status === 408) reply.header('Connection', 'close');
    for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
    const body = errorBody(request.url, a.status, a.message);
    // A text family (GET /metrics) answers in plain text.
    if (typeof body === 'string') return reply.code(a.status).type('text/plain; charset=utf-8').send(body);
    return reply.code(a.status).type('application/json; charset=utf-8').send(body);
  }

  return {
    /** setErrorHandler */
    onError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
      const a = classify(err);
      // Not the client's doing: the full error (stack included) goes to the log, never to the client.
      if (a.unexpected) log.error({ err, method: request.method, url: pathOf(request.url) }, 'request failed');
      return send(request, reply, a);
    },
    /** answers an error the edge decided on, outside the error handler */
    reject(request: FastifyRequest, reply: FastifyReply, err: EdgeError | AppError) {
      return send(request, reply, classify(err));
    },
    /** frameworkErrors: a path that cannot be decoded, a parameter too long */
    onFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      return send(request, reply, { status: 400, message: FASTIFY_CLIENT_MESSAGES.get(err.code) ?? 'Bad Request', headers: {}, limit: 'http.bad_request', unexpected: false });
    },
    /**
     * clientErrorHandler: Node's parser refused the request (malformed request line or header,
     * headers too large) or a timeout hit. There is no request object: answer on the socket.
     */
    onClientError(err: NodeJS.ErrnoException, socket: Socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      let status = 400;
      let message = 'malformed HTTP request';
      let limit = 'http.bad_request';
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') [status, message, limit] = [408, 'the request (headers or body) took too long to arrive', 'http.request_timeout'];
      else if (err.code === 'HPE_HEADER_OVERFLOW') [status, message, limit] = [431, 'request headers too large', 'http.header_size'];
      limits.hit(limit);
      clientError(`http.${status}`, { status, code: err.code, ip: socket.remoteAddress }, message);
      if (socket.writable) {
        const body = toJson(detailErrors.body(message));
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    },
  };
}
