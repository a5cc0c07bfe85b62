// One pass over a dump stream, off the event loop: the main thread only copies what it reads
// into 1 MiB shared blocks; gzip workers compress the blocks in parallel (one gzip member each,
// level 1), and a sink worker hashes the raw blocks in order (SHA-256, the seed's sha256), hashes
// the members in order and writes them to a temporary file (mode 0600), renamed to its final
// name only when complete and hashed. The file is a standard .gz (concatenated members, as pigz
// writes). Nothing raw touches the disk; on any failure the temporary file is removed.
import { open, rename, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { GZIP_WORKER, SINK_WORKER } from './pipeline-workers.js';

export interface PipelineCounts {
  rawBytes: number;
  gzipBytes: number;
}

export interface PipelineResult extends PipelineCounts {
  /** hex SHA-256 of the raw dump (seed `sha256`) */
  sha256: string;
  /** hex SHA-256 of the .gz file */
  gzipSha256: string;
  /** the .gz file's times, unix seconds */
  ctime: number;
  mtime: number;
  atime: number;
}

/** The temporary name of a dump file while it is written: hidden, beside it. */
export const partialPath = (finalPath: string) => path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.part`);

const BLOCK = 1 << 20;
/** blocks read but not yet written, at most: then the source is paused (backpressure) */
const MAX_AHEAD = 8;
/** gzip workers: as many as the machine has cores, 1–4 */
const GZIP_WORKERS = Math.max(1, Math.min(4, availableParallelism()));

/**
 * Reads `source` to its end into `finalPath` (gzip). `onProgress` gets the running counts.
 * `signal` aborts: the source is destroyed and the temporary file removed.
 */
export async function hashAndGzip(
  source: Readable,
  finalPath: string,
  opts: { signal?: AbortSignal; onProgress?: (c: PipelineCounts) => void } = {},
): Promise<PipelineResult> {
  const temp = partialPath(finalPath);
  const counts: PipelineCounts = { rawBytes: 0, gzipBytes: 0 };
  const file = await open(temp, 'wx', 0o600);
  let stopping = false;
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  const sink = new Worker(SINK_WORKER, { eval: true, workerData: { fd: file.fd } });
  const gzips = Array.from({ length: GZIP_WORKERS }, () => new Worker(GZIP_WORKER, { eval: true }));
  const workers = [sink, ...gzips];
  for (const w of workers) {
    w.on('error', fail);
    w.on('exit', (code) => {
      if (!stopping) fail(new Error(`dump pipeline worker exited (${code})`));
    });
  }

  // Members come back from the gzip workers in any order; they go to the sink in block order.
  let sent = 0;
  let written = 0;
  let nextToWrite = 0;
  const ready = new Map<number, Uint8Array>();
  let wake: (() => void) | null = null;
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  for (const g of gzips) {
    g.on('message', ({ seq, gz }: { seq: number; gz: Uint8Array }) => {
      ready.set(seq, gz);
      for (let m = ready.get(nextToWrite); m; m = ready.get(nextToWrite)) {
        ready.delete(nextToWrite++);
        sink.postMessage({ gz: m }, [m.buffer as ArrayBuffer]);
      }
    });
  }
  let digests: { sha256: string; gzipSha256: string } | undefined;
  sink.on('message', (m: { written?: number; sha256?: string; gzipSha256?: string }) => {
    if (m.written !== undefined) {
      // Members are written in block order, and the sink hashed that block's raw bytes before (one
      // port keeps its order): the block is free for the next bytes read.
      free.push(inFlight.shift()!);
      written++;
      counts.gzipBytes += m.written;
    } else digests = m as { sha256: string; gzipSha256: string };
    wakeUp();
  });
  /** Waits until `cond` holds (checked after every worker message); a failure rejects. */
  const until = (cond: () => boolean) =>
    cond()
      ? Promise.resolve()
      : Promise.race([
          failed,
          new Promise<void>((resolve) => {
            const check = () => {
              if (cond()) resolve();
              else wake = check;
            };
            wake = check;
          }),
        ]);

  // Blocks are reused once written: at most MAX_AHEAD + 1 are ever allocated (no GC churn of 1 MiB
  // buffers, one per MiB of dump).
  const free: SharedArrayBuffer[] = [];
  const inFlight: SharedArrayBuffer[] = [];
  let block = new SharedArrayBuffer(BLOCK);
  let fill = 0;
  const dispatch = () => {
    const seq = sent++;
    sink.postMessage({ raw: block, len: fill });
    gzips[seq % gzips.length]!.postMessage({ seq, raw: block, len: fill });
    inFlight.push(block);
    block = free.pop() ?? new SharedArrayBuffer(BLOCK);
    fill = 0;
  };

  const onAbort = () => source.destroy(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('aborted'));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const onSourceError = (err: Error) => fail(err);
  source.on('error', onSourceError);
  try {
    const reading = (async () => {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        for (let off = 0; off < chunk.length; ) {
          const n = Math.min(BLOCK - fill, chunk.length - off);
          new Uint8Array(block, fill, n).set(chunk.subarray(off, off + n));
          fill += n;
          off += n;
          if (fill === BLOCK) dispatch();
        }
        counts.rawBytes += chunk.length;
        opts.onProgress?.(counts);
        if (sent - written >= MAX_AHEAD) await until(() => sent - written < MAX_AHEAD);
      }
    })();
    reading.catch(() => {}); // its failure is awaited below, or a worker's came first
    await Promise.race([reading, failed]);
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (fill > 0 || sent === 0) dispatch(); // an empty dump still makes a valid (empty) .gz
    await until(() => written === sent);
    sink.postMessage({ end: true });
    await until(() => digests !== undefined);
    stopping = true;
    await Promise.all(workers.map((w) => w.terminate()));
    await file.close();
    await rename(temp, finalPath);
    const st = await stat(finalPath);
    return {
      ...counts,
      sha256: digests!.sha256,
      gzipSha256: digests!.gzipSha256,
      ctime: Math.floor(st.ctimeMs / 1000),
      mtime: Math.floor(st.mtimeMs / 1000),
      atime: Math.floor(st.atimeMs / 1000),
    };
  } catch (err) {
    stopping = true;
    source.destroy();
    // The name goes first (nothing left behind however soon the caller looks); the descriptor is
    // closed only once no worker can write to it any more.
    await rm(temp, { force: true });
    await Promise.all(workers.map((w) => w.terminate()));
    await file.close().catch(() => {});
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    source.off('error', onSourceError);
  }
}
