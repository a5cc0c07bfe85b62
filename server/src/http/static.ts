// Serves the built SPA (web/dist) at / and /resource-monitoring, with index.html as the fallback
// for client-side routes. Until the SPA is built, a placeholder page says where things are.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const placeholder = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vmpulse</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>vmpulse</h1><p>The dashboard is not built yet. The API is up:</p>
<ul><li><a href="/graphql">/graphql</a> (GraphiQL; send <code>Authorization: Bearer &lt;token&gt;</code>)</li>
<li><code>GET /api/telemetry/live-vms</code></li><li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li></ul>
</body></html>`;

export function createStaticHandler(distDir: string) {
  const root = path.resolve(distDir);
  return async function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const index = path.join(root, 'index.html');
    if (!existsSync(index)) {
      if (url.pathname !== '/' && url.pathname !== '/resource-monitoring') return false;
      res.writeHead(200, { 'Content-Type': types['.html']! });
      res.end(placeholder);
      return true;
    }
    let file = path.join(root, path.normalize(decodeURIComponent(url.pathname)));
    if (!file.startsWith(root + path.sep)) file = index; // no escaping the folder
    const isFile = await stat(file).then((s) => s.isFile(), () => false);
    if (!isFile) {
      // A client-side route gets the SPA; a missing asset gets a 404.
      if (path.extname(url.pathname) || !String(req.headers.accept ?? '').includes('text/html')) return false;
      file = index;
    }
    const body = await readFile(file);
    const immutable = file.includes(`${path.sep}assets${path.sep}`);
    res.writeHead(200, {
      'Content-Type': types[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
