// The GraphQL mount: graphql-yoga for HTTP (queries, mutations, SSE, GraphiQL) and graphql-ws for
// WebSockets on the same path. Resolvers see the principal and the services, nothing else.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GraphQLContext } from '../graphql/builder.js';
import type { Authorize } from '../lib/auth.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Services } from '../lib/module.js';

export const GRAPHQL_PATH = '/graphql';

/** AppError → GraphQLError with its code and HTTP status; anything else stays masked by yoga. */
function toGraphQLError(err: unknown): GraphQLError | undefined {
  const original = err instanceof GraphQLError ? err.originalError : err;
  if (original instanceof AppError) {
    return new GraphQLError(original.message, { extensions: { code: original.code, http: { status: original.status } } });
  }
  return undefined;
}

export function createGraphqlEdge(deps: { schema: GraphQLSchema; services: Services; authorize: Authorize; log: Logger }) {
  const { schema, services, authorize, log } = deps;
  const yoga = createYoga<{ req?: IncomingMessage; res?: ServerResponse; connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    cors: false, // the edge handles CORS for REST and GraphQL alike (CORS_ORIGINS)
    graphiql: { title: 'vmpulse GraphQL', subscriptionsProtocol: 'WS' },
    logging: {
      debug: (...a) => log.debug(a.map(String).join(' ')),
      info: (...a) => log.info(a.map(String).join(' ')),
      warn: (...a) => log.warn(a.map(String).join(' ')),
      // Resolver errors users cause are answered, not logged; unexpected ones are logged in maskError.
      error: (...a) => log.debug({ err: a[0] }, 'graphql'),
    },
    maskedErrors: {
      maskError: (err, message) => {
        const mapped = toGraphQLError(err);
        if (mapped) return mapped;
        const original = err instanceof GraphQLError ? err.originalError : err;
        if (err instanceof GraphQLError && (!original || original instanceof GraphQLError)) return err; // meant for the client
        log.error({ err: original }, 'unexpected error in a resolver');
        return new GraphQLError(message);
      },
    },
    context: async ({ request, connectionParams }) => {
      const header = connectionParams ? String(connectionParams.authorization ?? '') : request.headers.get('authorization');
      try {
        return { principal: await authorize(header, 'viewer'), services };
      } catch (err) {
        throw toGraphQLError(err) ?? err;
      }
    },
  });

  let wss: WebSocketServer | undefined;
  let wsServer: ReturnType<typeof useServer> | undefined;

  return {
    yoga,
    /** graphql-ws on the HTTP server's upgrade requests to the GraphQL path. */
    attach(server: Server) {
      // Compressed frames: a 1,000-VM fleetMetrics message is ~220 KB of JSON and compresses ~10×.
      wss = new WebSocketServer({ server, path: GRAPHQL_PATH, perMessageDeflate: { threshold: 4096, zlibDeflateOptions: { level: 1 } } });
      wsServer = useServer<Record<string, unknown>, { request: IncomingMessage }>(
        {
          // A socket without a valid token is closed (4403) before any operation runs.
          onConnect: async (ctx) => {
            try {
              await authorize(String(ctx.connectionParams?.authorization ?? ''), 'viewer');
              return true;
            } catch {
              return false;
            }
          },
          onSubscribe: async (ctx, _id, params) => {
            const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
              req: ctx.extra.request,
              connectionParams: ctx.connectionParams,
              params,
            });
            const args = {
              schema: s,
              operationName: params.operationName,
              document: parse(params.query),
              variableValues: params.variables,
              contextValue: await contextFactory(),
              rootValue: { execute, subscribe },
            };
            const errors = validate(args.schema, args.document);
            if (errors.length) return errors;
            return args;
          },
          execute: (args) => (args.rootValue as { execute: (a: unknown) => unknown }).execute(args) as never,
          subscribe: (args) => (args.rootValue as { subscribe: (a: unknown) => unknown }).subscribe(args) as never,
        },
        wss,
      );
    },
    async close() {
      await wsServer?.dispose();
      wss?.close();
    },
  };
}

export type GraphqlEdge = ReturnType<typeof createGraphqlEdge>;
