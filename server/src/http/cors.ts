// CORS for the API (REST and /graphql), configured by CORS_ORIGINS. Unset: same origin only.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function createCors(origins: string[] | undefined) {
  const any = origins?.includes('*') ?? false;
  const allowed = new Set(origins ?? []);
  /** Sets the headers; returns true when the request was a preflight and has been answered. */
  return function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (!origin || !(any || allowed.has(origin))) return false;
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Encoding');
    if (req.method !== 'OPTIONS') return false;
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept',
      'Access-Control-Max-Age': '600',
    });
    res.end();
    return true;
  };
}
