// /graphql on Fastify, as graphql-yoga documents it for Fastify: the route hands Fastify's request
// and reply to yoga and sends back what yoga answers (JSON, GraphiQL, or an SSE stream). The
// server context yoga passes to the GraphQL layer is `{ req, reply, principal }` (graphql.ts
// GraphqlServerContext), the principal being the caller the edge authenticated before anything of
// the request was read (absent only for GraphiQL's page, which needs none).
// graphql-ws runs on the same path through the HTTP server's upgrade event (http/graphql.ts).
import type { FastifyInstance } from 'fastify';
import { EdgeError } from './errors.js';
import { GRAPHQL_PATH, type GraphqlEdge, type GraphqlServerContext } from './graphql.js';

/** Request body types yoga reads (GraphQL over HTTP: JSON; also a bare query and form posts). */
const BODY_TYPES = ['application/json', 'application/graphql', 'application/graphql+json', 'application/x-www-form-urlencoded'];

export async function registerGraphql(app: FastifyInstance, graphql: GraphqlEdge, opts: { bodyLimit: number }) {
  const { yoga } = graphql;

  await app.register(async (scope) => {
    // Fastify only collects the body (within the GraphQL limit, after authentication); yoga parses
    // it, so a malformed document keeps yoga's GraphQL-over-HTTP answer.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(BODY_TYPES, { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) => done(null, body));

    scope.route({
      method: ['GET', 'POST'],
      url: GRAPHQL_PATH,
      bodyLimit: opts.bodyLimit,
      config: { auth: 'graphql' },
      schema: { hide: true },
      async handler(request, reply) {
        const serverContext: GraphqlServerContext = { req: request.raw, reply, principal: request.principal ?? undefined };
        const response = await yoga.handleNodeRequestAndResponse(request, reply, serverContext);
        reply.status(response.status);
        response.headers.forEach((value, key) => {
          reply.header(key, value);
        });
        return reply.send(response.body ?? undefined);
      },
    });

    scope.route({
      method: ['PUT', 'PATCH', 'DELETE'],
      url: GRAPHQL_PATH,
      schema: { hide: true },
      handler() {
        throw new EdgeError(405, 'GraphQL is served over GET and POST', { Allow: 'GET, POST' });
      },
    });
  });
}
