// One pass over a dump, off the event loop: the native engine (libvirt/dump-gzip.ts) hashes the
// raw bytes in order (SHA-256, the seed's sha256), compresses 1 MiB blocks on several threads
// with ISA-L's igzip (one gzip member each, level 1, pigz-style: the concatenated members are one
// standard .gz), hashes the members in order and writes them to a temporary file (mode 0600),
// renamed to its final name only when complete and hashed. A local dump's FIFO is read by the
// engine itself, so the event loop sees only progress counts; a remote dump's chunks are handed
// over as they arrive. Nothing raw touches the disk; on any failure the temporary file is removed.
import { closeSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FifoSource } from '../../libvirt/dump.js';
import { startGzipEngine, type GzipEngine, type GzipEngineEvent } from '../../libvirt/dump-gzip.js';

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

const ENGINE = {
  blockSize: 1 << 20,
  level: 1,
  /** compressing threads: as many as the machine has cores, 1–4 */
  threads: Math.max(1, Math.min(4, availableParallelism())),
  /** the engine's reading and compressing threads yield to the event loop (and to the rest of the machine) */
  nice: 19,
};

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
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  let settle!: { resolve(e: GzipEngineEvent): void; reject(err: Error): void };
  // The engine's last word: after it, no thread of it reads a chunk or writes to the file.
  const finished = new Promise<GzipEngineEvent>((resolve, reject) => {
    settle = { resolve, reject };
  });
  finished.catch(() => {});
  let consumed: (() => void) | undefined;
  const fifo = source instanceof FifoSource;
  let inFd: number | undefined;
  let engine: GzipEngine | undefined;
  const onAbort = () => source.destroy(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('aborted'));
  const onSourceError = (err: Error) => fail(err);
  const onSourceClose = () => {
    if (!source.readableEnded) fail(new Error('the dump stream closed before its end'));
  };
  try {
    inFd = fifo ? source.takeFd() : undefined;
    engine = startGzipEngine({ ...ENGINE, inFd, outFd: file.fd }, (e) => {
      counts.rawBytes = e.rawBytes;
      counts.gzipBytes = e.gzipBytes;
      if (e.type === 'done') return settle.resolve(e);
      if (e.type === 'error') return settle.reject(new Error(e.message));
      if (e.type === 'consumed') {
        const c = consumed;
        consumed = undefined;
        c?.();
      } else if (e.type === 'eof' && fifo) {
        source.push(null); // the stream ends as the FIFO did
        source.resume();
      }
      opts.onProgress?.(counts);
    });
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    source.on('error', onSourceError);
    source.on('close', onSourceClose);
    const feeding = fifo
      ? Promise.resolve()
      : (async () => {
          // Each chunk stays referenced here until the engine has copied it.
          for await (const chunk of source as AsyncIterable<Buffer | string>) {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            await Promise.race([
              new Promise<void>((resolve) => {
                consumed = resolve;
                engine!.push(bytes);
              }),
              finished,
            ]);
          }
          engine!.end();
        })();
    feeding.catch(() => {});
    await Promise.race([feeding, failed]);
    const done = await Promise.race([finished, failed]);
    if (opts.signal?.aborted) throw opts.signal.reason;
    await file.close();
    await rename(temp, finalPath);
    const st = await stat(finalPath);
    return {
      rawBytes: done.rawBytes,
      gzipBytes: done.gzipBytes,
      sha256: done.sha256!,
      gzipSha256: done.gzipSha256!,
      ctime: Math.floor(st.ctimeMs / 1000),
      mtime: Math.floor(st.mtimeMs / 1000),
      atime: Math.floor(st.atimeMs / 1000),
    };
  } catch (err) {
    source.destroy();
    // The name goes first (nothing left behind however soon the caller looks); the descriptor is
    // closed only once the engine has stopped (it stops within one block's work).
    await rm(temp, { force: true });
    if (engine) {
      engine.abort();
      await finished.catch(() => {});
    } else if (inFd !== undefined) closeSync(inFd); // taken, but no engine started to close it
    await file.close().catch(() => {});
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    source.off('error', onSourceError);
    source.off('close', onSourceClose);
  }
}
