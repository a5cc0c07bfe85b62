// A memory-only dump of a domain on a LOCAL host, read as a stream: libvirt writes into a FIFO
// that we read. The FIFO's read end is opened before the dump is asked for (while no reader
// has it open, libvirtd blocks every client). We also hold a write end ourselves, so the reader
// sees no end-of-file before libvirt opens its own; we close it once libvirt's call returns.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { LibvirtConnection } from './connection.js';
import type { CoreDumpOptions } from './types.js';

export interface DumpStream {
  /** the raw dump bytes, ending when libvirt is done */
  stream: Readable;
  /** settles when libvirt's dump call returns */
  done: Promise<void>;
  /** stops the dump: closes the read end (libvirt cannot abort a memory-only dump; a broken pipe ends it at once) */
  abort(reason?: Error): void;
}

const run = promisify(execFile);

/** Starts `conn.coreDump(uuid → FIFO in dir)` and hands back the FIFO's bytes. The FIFO is removed when the dump ends. */
export async function dumpThroughFifo(conn: LibvirtConnection, uuid: string, dir: string, opts: CoreDumpOptions): Promise<DumpStream> {
  const fifo = path.join(dir, `.dump-${randomUUID()}.fifo`);
  await run('mkfifo', ['-m', '0600', fifo]);
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
  // A FIFO is a pipe to libuv: reads are non-blocking, and a slow consumer pauses them (backpressure).
  const stream = new net.Socket({ fd: readFd, readable: true, writable: false });
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
  return {
    stream,
    done,
    abort(reason) {
      stream.destroy(reason);
      cleanup();
    },
  };
}
