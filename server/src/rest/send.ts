import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';

const BIGINT_MARK = '\u0000bigint:';

/** JSON where a BigInt is written as an exact integer literal (JSON.stringify cannot). */
export function toJson(body: unknown): string {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? BIGINT_MARK + v.toString() : v));
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

const GZIP_MIN_BYTES = 1024;

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  let payload: Buffer = Buffer.from(toJson(body));
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', Vary: 'Accept-Encoding' };
  if (payload.length >= GZIP_MIN_BYTES && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    payload = gzipSync(payload, { level: 4 });
    headers['Content-Encoding'] = 'gzip';
  }
  headers['Content-Length'] = payload.length;
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
}
