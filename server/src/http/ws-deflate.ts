// permessage-deflate (RFC 7692) for graphql-ws sockets, compressing small messages on the event
// loop instead of on the libuv pool.
//
// ws compresses each message on the pool through one zlib stream per socket, at most a few at once
// across all sockets. A tick fans one small message out to every vmMetrics subscriber: the messages
// left in batches, each batch waiting for the event loop to take the previous one's completions,
// and the last of 100 subscribers got the tick tens of ms after the first (bench/README.md,
// "Latency"). A 1.5 KB message deflates in ~45 µs on the loop (a new zlib engine included), far less
// than a round trip through the pool.
//
// Node's zlib has no synchronous call that keeps a stream's context, so each message gets a new raw
// deflate engine whose preset dictionary is the last window of what this socket sent before
// (deflateSetDictionary): exactly what the client's inflater holds in its window (context
// takeover, RFC 7692 §7.2.3), so back-references into earlier messages stay valid. With
// server_no_context_takeover each message starts empty. Messages over SYNC_MAX_BYTES (the fleet
// overview) are deflated on the pool the same way, at most POOL_CONCURRENCY at once.
import zlib from 'node:zlib';
import type { WebSocket } from 'ws';

/**
 * Largest message deflated on the event loop (~0.3 ms at level 1); larger ones go to the pool.
 * @internal exported for tests only: its unit test sends one larger
 */
export const SYNC_MAX_BYTES = 32 * 1024;
/**
 * Output buffer of an engine on the loop. zlib's default, 16 KiB, is an ArrayBuffer of its own per
 * message until the next GC (+20 MiB RSS over 6,000 messages in a side test, +11 at 2 KiB, which
 * Node takes from its shared pool); longer output just takes several.
 */
const SYNC_CHUNK_BYTES = 2048;
/** Pool deflates in flight across all sockets (ws' own default is 10). */
const POOL_CONCURRENCY = 32;

type Compress = (data: Buffer | string, fin: boolean, callback: (err: Error | null, result?: Buffer) => void) => void;

/** ws' PerMessageDeflate, as far as this module uses it (lib/permessage-deflate.js, ws 8). */
interface PerMessageDeflate {
  params: { server_max_window_bits?: number | true; server_no_context_takeover?: boolean };
  _options: { zlibDeflateOptions?: zlib.ZlibOptions };
  compress: Compress;
}

const pool = limiter(POOL_CONCURRENCY);

/**
 * Replaces the socket's permessage-deflate compression (if the client negotiated it) with the one
 * above. ws' Sender hands its extension one message at a time and waits for the callback before the
 * next (it queues sends meanwhile), which is what keeps the dictionary in step with the client.
 */
export function deflateOnTheLoop(socket: WebSocket): void {
  const pmd = (socket as unknown as { _extensions?: Record<string, PerMessageDeflate | undefined> })._extensions?.['permessage-deflate'];
  if (!pmd) return;
  const bits = pmd.params.server_max_window_bits;
  const windowBits = typeof bits === 'number' ? bits : zlib.constants.Z_DEFAULT_WINDOWBITS;
  // zlib turns a raw deflate window of 8 bits into 9 (zlib.h, deflateInit2): such a client stays with ws.
  if (windowBits < 9) return;
  const contextTakeover = !pmd.params.server_no_context_takeover;
  const base: zlib.ZlibOptions = { ...pmd._options.zlibDeflateOptions, windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const onLoop: zlib.ZlibOptions = { ...base, chunkSize: SYNC_CHUNK_BYTES };
  const history = slidingWindow(1 << windowBits);
  const withHistory = (opts: zlib.ZlibOptions, dictionary: Buffer) => (dictionary.length > 0 ? { ...opts, dictionary } : opts);
  // A message ends with the sync flush's empty stored block, 00 00 ff ff, which the frame leaves out (RFC 7692 §7.2.1).
  const frame = (out: Buffer, fin: boolean) => (fin ? out.subarray(0, out.length - 4) : out);
  // What the client's inflater holds after this message.
  const advance = (input: Buffer, fin: boolean) => (fin && !contextTakeover ? history.clear() : history.push(input));

  pmd.compress = (data, fin, callback) => {
    const input = typeof data === 'string' ? Buffer.from(data) : data;
    if (input.length <= SYNC_MAX_BYTES) {
      let out: Buffer;
      try {
        out = zlib.deflateRawSync(input, withHistory(onLoop, history.bytes()));
      } catch (err) {
        socket.terminate();
        throw err;
      }
      advance(input, fin);
      callback(null, frame(out, fin));
      return;
    }
    // The engine is made when the pool takes the job: it gets the window as it is now.
    const opts = withHistory(base, Buffer.from(history.bytes()));
    advance(input, fin);
    pool((done) =>
      zlib.deflateRaw(input, opts, (err, out) => {
        done();
        // ws' Sender has no way to fail one message: the socket goes (graphql-ws cleans up on close).
        if (err) socket.terminate();
        else callback(null, frame(out, fin));
      }),
    );
  };
}

/** The last `size` bytes pushed, in one buffer allocated once (a deflate dictionary must be contiguous). */
function slidingWindow(size: number) {
  const buf = Buffer.allocUnsafeSlow(size);
  let len = 0;
  return {
    bytes: () => buf.subarray(0, len),
    clear() {
      len = 0;
    },
    push(data: Buffer) {
      if (data.length >= size) {
        data.copy(buf, 0, data.length - size);
        len = size;
        return;
      }
      const keep = Math.min(len, size - data.length);
      buf.copyWithin(0, len - keep, len);
      data.copy(buf, keep);
      len = keep + data.length;
    },
  };
}

/** Runs jobs with at most `max` unfinished; each calls its `done` once. */
function limiter(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const done = () => {
    running--;
    const next = waiting.shift();
    if (next) next();
  };
  return (job: (done: () => void) => void) => {
    const start = () => {
      running++;
      job(done);
    };
    if (running < max) start();
    else waiting.push(start);
  };
}
