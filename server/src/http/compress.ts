// Compression: @fastify/compress for every answer over 1 KB (gzip, level 4), except large JSON
// answers (serialized to one Buffer, e.g. live-vms of a 1,000-VM fleet: 140 KB), which are gzipped
// in one call on zlib's thread pool, as the hand-written edge did. @fastify/compress streams such a
// body through a stream pipeline, which cost ~25 % more server CPU per live-vms request (measured
// with the bench's A/B). Bodies are never decompressed on the way in.
import { promisify } from 'node:util';
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

const gzipAsync = promisify(gzip);

/**
 * A large Buffer's gzip, made once per Buffer: an answer kept and sent again as the same Buffer
 * (live-vms between two ticks) is not compressed again for every request (~600 µs at 140 KB).
 * Answers built per request are new Buffers, and their entries go with them.
 */
const zipped = new WeakMap<Buffer, Promise<Buffer>>();
function gzipOnce(payload: Buffer): Promise<Buffer> {
  let z = zipped.get(payload);
  if (!z) {
    z = gzipAsync(payload, { level: LEVEL });
    zipped.set(payload, z);
    z.catch(() => zipped.delete(payload));
  }
  return z;
}

export async function registerCompression(app: FastifyInstance, opts: { largeJsonBytes: number }) {
  // Global onSend hooks run before the route-level one @fastify/compress adds; it leaves a body
  // that already has a Content-Encoding alone.
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => {
    if (!Buffer.isBuffer(payload) || payload.length < opts.largeJsonBytes || reply.hasHeader('content-encoding') || !acceptsGzip(request.headers['accept-encoding'])) {
      return done(null, payload);
    }
    gzipOnce(payload).then(
      (z) => {
        reply.header('Content-Encoding', 'gzip').header('Vary', 'Accept-Encoding').header('Content-Length', z.length);
        done(null, z);
      },
      () => done(null, payload),
    );
  });
  await app.register(fastifyCompress, { global: true, encodings: ['gzip'], threshold: COMPRESS_MIN_BYTES, zlibOptions: { level: LEVEL }, globalDecompression: false });
}
