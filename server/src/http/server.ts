// The HTTP edge: one port for GraphQL (HTTP, SSE, graphql-ws), the features' REST routes, health
// checks and the SPA. Built apart from listening so tests can start it on port 0.
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { Authorize } from '../lib/auth.js';
import type { LimitCounters } from '../lib/limits.js';
import type { Logger } from '../lib/logger.js';
import type { RouteFamily } from '../lib/rest.js';
import { createCors } from './cors.js';
import { GRAPHQL_PATH, type GraphqlEdge } from './graphql.js';
import { createRestHandler } from './router.js';
import { sendJson } from './send.js';
import { createStaticHandler } from './static.js';

/** The repository root, found upwards from this module (run from src/ with tsx or from dist/src/). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const webDist = path.join(repoRoot(), 'web', 'dist');

/** What /readyz answers: ready or not, and the details behind it. */
export type Readiness = () => Promise<{ ready: boolean; detail: Record<string, unknown> }>;

export function createHttpEdge(deps: { config: Config; log: Logger; limits: LimitCounters; authorize: Authorize; rest: RouteFamily[]; graphql: GraphqlEdge; readiness: Readiness }) {
  const { config, log, graphql, readiness } = deps;
  const rest = createRestHandler(deps.rest, deps.authorize, log.child({ part: 'rest' }));
  const serveStatic = createStaticHandler(webDist);
  const cors = createCors(config.CORS_ORIGINS);

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if ((url.pathname === GRAPHQL_PATH || url.pathname.startsWith('/api/')) && cors(req, res)) return;
    if (url.pathname === GRAPHQL_PATH) return graphql.yoga(req, res);
    if (url.pathname === '/healthz') return sendJson(req, res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const { ready, detail } = await readiness();
      return sendJson(req, res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...detail });
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
  graphql.attach(server);

  return {
    /** Resolves with the port actually bound (PORT=0 picks a free one). */
    async listen(): Promise<{ port: number; url: string }> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      return { port, url: `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}` };
    },
    async close() {
      await graphql.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
