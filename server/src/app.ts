// buildApp(): one HTTP port for GraphQL (HTTP, SSE, graphql-ws), the REST shims, health checks
// and the SPA. Built apart from listening so tests can start it on port 0.
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Config } from './config.js';
import { openDatabase } from './lib/db.js';
import { createCors } from './lib/cors.js';
import { AppError } from './lib/errors.js';
import type { Logger } from './lib/logger.js';
import { createEventBus } from './lib/pubsub.js';
import type { GraphQLContext } from './graphql/builder.js';
import { schema } from './graphql/schema.js';
import { createRestHandler } from './rest/router.js';
import { sendJson } from './rest/send.js';
import { metricsRoutes } from './rest/metrics.js';
import { telemetryRoutes } from './rest/telemetry.js';
import { chooseHostUris } from './services/hosts.js';
import { createServices, type Services } from './services/container.js';
import { createStaticHandler } from './static.js';

/** The repository root, found upwards from this module (run from src/ with tsx or from dist/src/). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const webDist = path.join(repoRoot(), 'web', 'dist');

export interface App {
  services: Services;
  /** resolves with the port actually bound (PORT=0 picks a free one) */
  start(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
}

/** AppError → GraphQLError with its code and HTTP status; anything else stays masked by yoga. */
function toGraphQLError(err: unknown): GraphQLError | undefined {
  const original = err instanceof GraphQLError ? err.originalError : err;
  if (original instanceof AppError) {
    return new GraphQLError(original.message, { extensions: { code: original.code, http: { status: original.status } } });
  }
  return undefined;
}

export async function buildApp(config: Config, log: Logger): Promise<App> {
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, log: log.child({ part: 'db' }) });
  const bus = await createEventBus(config.REDIS_URL);
  const services = createServices({ config, db, pubsub: bus.pubsub, log });
  const { tokens, hosts, vms } = services;

  if (config.AUTH === 'off') log.warn('AUTH=off: every request is treated as admin. Do not expose this server.');
  const created = await tokens.ensureAdminToken(config.DATA_DIR);
  if (created) {
    // Printed once, on the first start; kept owner-only in DATA_DIR.
    process.stdout.write(`\n  vmpulse admin token (shown once, also saved to ${created.file}):\n\n    ${created.token}\n\n`);
    log.info({ file: created.file }, 'initial admin token created');
  }

  const yoga = createYoga<{ req?: IncomingMessage; res?: ServerResponse; connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    cors: false, // handled for REST and GraphQL alike below (CORS_ORIGINS)
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
        return { principal: await tokens.authorize(header, 'viewer'), services };
      } catch (err) {
        throw toGraphQLError(err) ?? err;
      }
    },
  });

  const rest = createRestHandler([telemetryRoutes, metricsRoutes], services, log.child({ part: 'rest' }));
  const serveStatic = createStaticHandler(webDist);
  const cors = createCors(config.CORS_ORIGINS);
  let ready = false;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if ((url.pathname === '/graphql' || url.pathname.startsWith('/api/')) && cors(req, res)) return;
    if (url.pathname === '/graphql') return yoga(req, res);
    if (url.pathname === '/healthz') return sendJson(req, res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const database = await db.ping();
      const ok = ready && database;
      return sendJson(req, res, ok ? 200 : 503, {
        status: ok ? 'ready' : 'not ready',
        database,
        inventory: ready,
        hosts: hosts.list().map((h) => ({ name: h.name, connected: h.connected, demo: h.demo, error: h.lastError })),
      });
    }
    if (await rest(req, res, url)) return;
    if (await serveStatic(req, res, url)) return;
    sendJson(req, res, 404, { detail: 'Not Found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) sendJson(req, res, 500, { detail: 'internal error' });
      else res.destroy();
    });
  });

  // Compressed frames: a 1,000-VM fleetMetrics message is ~220 KB of JSON and compresses ~10×.
  const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: { threshold: 4096, zlibDeflateOptions: { level: 1 } } });
  const wsServer = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      // A socket without a valid token is closed (4403) before any operation runs.
      onConnect: async (ctx) => {
        try {
          await tokens.authorize(String(ctx.connectionParams?.authorization ?? ''), 'viewer');
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

  return {
    services,
    async start() {
      const targets = await chooseHostUris(config, log.child({ part: 'hosts' }));
      await hosts.register(targets);
      await vms.start(config.INVENTORY_INTERVAL * 1000);
      await hosts.connectAll();
      services.collector.start();
      ready = true;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      const url = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}`;
      log.info({ url, graphql: `${url}/graphql`, hosts: hosts.list().map((h) => h.name) }, 'vmpulse listening');
      return { port, url };
    },
    async stop() {
      ready = false;
      await services.collector.stop();
      services.metrics.stop();
      vms.stop();
      await wsServer.dispose();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hosts.stop();
      await services.store.close();
      await bus.close();
      await db.close();
    },
  };
}
