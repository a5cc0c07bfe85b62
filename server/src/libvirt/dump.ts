// A memory-only dump of a domain on a LOCAL host: libvirt writes into a FIFO whose read end the
// dump pipeline's native engine reads itself (FifoSource.takeFd), so no dump byte crosses the
// event loop. The FIFO's read end is opened before the dump is asked for (while no reader has it
// open, libvirtd blocks every client). We also hold a write end ourselves, so the reader sees no
// end-of-file before libvirt opens its own; we close it once libvirt's call returns.
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { LibvirtConnection } from './connection.js';
import { native } from './native.js';
import type { CoreDumpOptions } from './types.js';

export interface DumpStream {
  /** the raw dump bytes, ending when libvirt is done (a FifoSource: read through its descriptor) */
  stream: Readable;
  /** settles when libvirt's dump call returns */
  done: Promise<void>;
  /** stops the dump: closes the read end (libvirt cannot abort a memory-only dump; a broken pipe ends it at once) */
  abort(reason?: Error): void;
}

/**
 * A FIFO's read end as a stream whose bytes are read through its descriptor, off the JS thread:
 * whoever takes the descriptor (takeFd) reads it to its end, closes it, and then ends the stream
 * (push(null)). Nothing is read through the stream itself. Destroyed before the descriptor is
 * taken, it closes it.
 */
export class FifoSource extends Readable {
  #fd: number;
  constructor(fd: number) {
    super();
    this.#fd = fd;
  }
  /** Hands the descriptor over, once: the taker reads and closes it. */
  takeFd(): number {
    if (this.#fd < 0) throw new Error('the FIFO is taken or closed');
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }
  override _read() {}
  override _destroy(err: Error | null, cb: (err?: Error | null) => void) {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
    cb(err);
  }
}

/** Starts `conn.coreDump(uuid → FIFO in dir)` and hands back the FIFO's bytes. The FIFO is removed when the dump ends. */
export async function dumpThroughFifo(conn: LibvirtConnection, uuid: string, dir: string, opts: CoreDumpOptions): Promise<DumpStream> {
  const fifo = path.join(dir, `.dump-${randomUUID()}.fifo`);
  native.mkfifo(fifo, 0o600);
  let readFd = -1;
  let keeperFd = -1;
  try {
    readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    keeperFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (readFd >= 0) closeSync(readFd);
    rmSync(fifo, { force: true });
    throw err;
  }
  const stream = new FifoSource(readFd);
  const closeKeeper = () => {
    if (keeperFd < 0) return;
    closeSync(keeperFd);
    keeperFd = -1;
  };
  const cleanup = () => {
    closeKeeper();
    rmSync(fifo, { force: true });
  };
  stream.once('close', cleanup);
  const done = conn.coreDump(uuid, fifo, opts).then(
    () => closeKeeper(), // libvirt wrote everything: let the reader see the end
    (err: unknown) => {
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
      cleanup();
      throw err;
    },
  );
  // Stopped before libvirt opened the FIFO, the name is already gone and libvirt makes a plain file
  // of it: whatever is at the name when libvirt's call returns goes too (the reader's descriptor
  // does not need the name).
  void done.finally(() => rmSync(fifo, { force: true })).catch(() => {});
  return {
    stream,
    done,
    abort(reason) {
      stream.destroy(reason);
      cleanup();
    },
  };
}
