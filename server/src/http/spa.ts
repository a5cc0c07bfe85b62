// The SPA (web/dist) on the server's own port: an existing file is served as it is; every other
// GET/HEAD outside the API (/api/*, /graphql, /healthz, /readyz) gets index.html whatever its
// Accept header, so client-side routes load; a missing /assets/* file is a 404. Until the SPA is
// built, a placeholder page says where things are.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EdgeError, isApiPath, pathOf } from './errors.js';

/** The repository root, found upwards from this module (run from src/ with tsx or from dist/src/). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const WEB_DIST = path.join(repoRoot(), 'web', 'dist');

const placeholder = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vmpulse</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>vmpulse</h1><p>The dashboard is not built yet (<code>pnpm --filter @vmpulse/web build</code>). The API is up:</p>
<ul><li><a href="/graphql">/graphql</a> (GraphiQL; send <code>Authorization: Bearer &lt;token&gt;</code>)</li>
<li><a href="/api/docs">/api/docs</a> (REST API reference), <a href="/api/openapi.json">/api/openapi.json</a></li>
<li><code>GET /api/telemetry/live-vms</code></li><li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li></ul>
</body></html>`;

const isAssetPath = (p: string) => p.startsWith('/assets/');

/**
 * Registers the static files (if built) and returns the fallback for requests no route matched:
 * the SPA's index.html for a GET/HEAD of a client-side path, else a 404 in the family's body.
 */
export async function registerSpa(app: FastifyInstance, distDir = WEB_DIST) {
  const built = existsSync(path.join(distDir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: distDir,
      prefix: '/',
      index: ['index.html'],
      // Hashed bundles never change; the page itself is always revalidated.
      setHeaders(reply, file) {
        reply.header('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
      cacheControl: false,
      // One route per file of the build, found at start: any other path (an API path no route
      // matched, a name too long for the file system) never reaches it and goes to the fallback.
      wildcard: false,
    });
  }
  return async function notFound(request: FastifyRequest, reply: FastifyReply) {
    const p = pathOf(request.url);
    if ((request.method === 'GET' || request.method === 'HEAD') && !isApiPath(p) && !isAssetPath(p)) {
      if (built) return reply.sendFile('index.html');
      return reply.code(200).header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(placeholder);
    }
    throw new EdgeError(404, 'Not Found');
  };
}
