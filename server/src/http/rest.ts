// The features' REST routes on Fastify: each route's zod schemas validate params, query and body
// (a 400 names the field and the reason), type the handler and feed the OpenAPI document. A path
// served with other methods answers 405 with Allow; a repeated query parameter is refused.
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { FileAnswer, JsonAnswer, TextAnswer, type Route, type RouteFamily } from '../lib/rest.js';
import { EdgeError } from './errors.js';
import { BUFFER_FROM } from './json.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** `?limit=1&limit=2`: which one would count? Refused rather than guessed. */
const refuseRepeatedParams: onRequestHookHandler = (request, _reply, done) => {
  const query = request.query as Record<string, unknown>;
  for (const key in query) {
    if (Array.isArray(query[key])) {
      done(new EdgeError(400, `query parameter "${key.slice(0, 60)}" is given more than once`, {}, 'http.repeated_param'));
      return;
    }
  }
  done();
};

const JSON_TYPES = ['application/json'] as const;
const content = (description: string, schema: unknown, types: readonly string[] = JSON_TYPES) => ({ description, content: Object.fromEntries(types.map((t) => [t, { schema }])) });

/** The responses a route can give, for the OpenAPI document (every one in the family's error body). */
function responses(route: Route, family: RouteFamily) {
  const { params, query, body, response } = route.schema;
  const err = family.errors.schema;
  const errorTypes = family.errors.mediaType ? [family.errors.mediaType.split(';')[0]!] : JSON_TYPES;
  const json = (description: string, schema: unknown) => content(description, schema, errorTypes);
  const out: Record<number, unknown> = { 200: content('OK', response, route.schema.produces) };
  if (params || query || body) out[400] = json('invalid input: the message names the field and the reason', err);
  out[401] = json('missing, malformed, wrong or revoked token (with WWW-Authenticate: Bearer)', err);
  if (route.role !== 'viewer') out[403] = json(`the token's role is below ${route.role}`, err);
  if (params) out[404] = json('no such VM (or other resource)', err);
  if (body) {
    out[413] = json('body larger than HTTP_BODY_LIMIT', err);
    out[415] = json('body not application/json', err);
  }
  for (const [status, what] of Object.entries(route.errors ?? {})) out[Number(status)] = json(what, err);
  out[429] = json('rate limit (per token) or failed-authentication limit (per address) reached; see Retry-After', err);
  out[500] = json('unexpected error, logged on the server', err);
  return out;
}

export async function registerRest(app: FastifyInstance, families: readonly RouteFamily[]) {
  await app.register(async (api) => {
    // JSON bodies: an empty one counts as none; `__proto__` and `constructor` keys are refused (400).
    // A route that takes no body ignores whatever body is sent, as it always did.
    const parseJson = api.getDefaultJsonParser('error', 'error');
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (body === '' || !request.routeOptions.schema?.body) return done(null, undefined);
      parseJson(request, String(body), done);
    });
    api.addContentTypeParser('*', { parseAs: 'buffer' }, (request: FastifyRequest, _body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      if (request.routeOptions.schema?.body) return done(new EdgeError(415, 'unsupported Content-Type; send application/json'));
      done(null, undefined);
    });

    const methodsByPath = new Map<string, Set<string>>();
    for (const family of families) {
      for (const route of family.routes) {
        const methods = methodsByPath.get(route.path) ?? new Set<string>();
        methods.add(route.method);
        if (route.method === 'GET') methods.add('HEAD');
        methodsByPath.set(route.path, methods);
        api.route({
          method: route.method,
          url: route.path,
          config: { auth: route.role },
          onRequest: refuseRepeatedParams,
          schema: {
            // Fastify warns about a schema key present but undefined: only the ones declared.
            ...(route.schema.params ? { params: route.schema.params } : {}),
            ...(route.schema.query ? { querystring: route.schema.query } : {}),
            ...(route.schema.body ? { body: route.schema.body } : {}),
            response: responses(route, family),
            summary: route.summary,
            description: route.description,
            tags: [family.tag],
            security: [{ bearerAuth: [] }],
            'x-vmpulse-role': route.role,
          },
          handler: async (request, reply) => {
            const answer = await route.handle({ params: request.params, query: request.query, body: request.body, principal: request.principal!, headers: request.headers });
            // A Buffer: a large one is gzipped in one call like large JSON (compress.ts).
            if (answer instanceof TextAnswer) return reply.type(answer.mediaType).send(typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body);
            if (answer instanceof FileAnswer) return reply.headers(answer.headers).type(answer.contentType).send(answer.stream);
            // Already JSON: sent as toJson's output would be (a large one as one Buffer, gzipped in one call).
            if (answer instanceof JsonAnswer) return reply.type('application/json; charset=utf-8').send(answer.json.length >= BUFFER_FROM ? Buffer.from(answer.json) : answer.json);
            return answer;
          },
        });
      }
    }

    for (const [url, allowed] of methodsByPath) {
      const allow = METHODS.filter((m) => allowed.has(m)).join(', ');
      api.route({
        method: METHODS.filter((m) => !allowed.has(m)),
        url,
        schema: { hide: true },
        handler() {
          throw new EdgeError(405, 'Method Not Allowed', { Allow: allow });
        },
      });
    }
  });
}
