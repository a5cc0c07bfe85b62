// Compression: @fastify/compress for every answer over 1 KB (gzip, level 4), except large JSON
// answers (serialized to one Buffer, e.g. live-vms of a 1,000-VM fleet: 140 KB), which are gzipped
// in one call on zlib's thread pool, as the hand-written edge did. @fastify/compress streams such a
// body through a stream pipeline, which cost ~25 % more server CPU per live-vms request (measured
// with the bench's A/B). Bodies are never decompressed on the way in.
import { gzip } from 'node:zlib';
import fastifyCompress from '@fastify/compress';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const LEVEL = 4;
const COMPRESS_MIN_BYTES = 1024;

/**
 * Whether Accept-Encoding admits gzip (a `q=0` refuses it).
 * @internal exported for tests only: its unit test drives it
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

export async function registerCompression(app: FastifyInstance, opts: { largeJsonBytes: number }) {
  // Global onSend hooks run before the route-level one @fastify/compress adds; it leaves a body
  // that already has a Content-Encoding alone.
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => {
    if (!Buffer.isBuffer(payload) || payload.length < opts.largeJsonBytes || reply.hasHeader('content-encoding') || !acceptsGzip(request.headers['accept-encoding'])) {
      return done(null, payload);
    }
    gzip(payload, { level: LEVEL }, (err, zipped) => {
      if (err) return done(null, payload);
      reply.header('Content-Encoding', 'gzip').header('Vary', 'Accept-Encoding').header('Content-Length', zipped.length);
      done(null, zipped);
    });
  });
  await app.register(fastifyCompress, { global: true, encodings: ['gzip'], threshold: COMPRESS_MIN_BYTES, zlibOptions: { level: LEVEL }, globalDecompression: false });
}
