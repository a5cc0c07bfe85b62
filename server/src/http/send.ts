import { gzip } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';

const BIGINT_MARK = '\u0000bigint:';

/** JSON where a BigInt is written as an exact integer literal (JSON.stringify cannot). */
export function toJson(body: unknown): string {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? BIGINT_MARK + v.toString() : v));
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

const GZIP_MIN_BYTES = 1024;

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(toJson(body));
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', Vary: 'Accept-Encoding' };
  const finish = (data: Buffer) => {
    headers['Content-Length'] = data.length;
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : data);
  };
  if (payload.length < GZIP_MIN_BYTES || !/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return finish(payload);
  // Off the main thread (zlib's pool): a 140 KB live-vms body took ~2 ms of event loop with gzipSync.
  gzip(payload, { level: 4 }, (err, zipped) => {
    if (err) return finish(payload);
    headers['Content-Encoding'] = 'gzip';
    finish(zipped);
  });
}
