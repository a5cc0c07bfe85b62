// A memory-only dump of a domain on a REMOTE host (qemu+ssh://…): libvirt writes it into a file of
// a directory storage pool on that host, then the volume is streamed back with
// virStorageVolDownload (pulled: the next chunk is asked for only when the consumer wants it) and
// deleted. libvirt cannot abort a memory-only dump: a stop during the dump waits for it to end on
// the host, then deletes the volume; a stop during the download aborts the stream at once.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { LibvirtConnection, VolumeStream } from './connection.js';
import type { DumpStream } from './dump.js';
import type { CoreDumpOptions } from './types.js';

/** The pool vmpulse dumps into on every remote host, and its directory there. */
const REMOTE_DUMP_POOL = 'vmpulse-dumps';
/** @internal exported for tests only: the tests look there for what a remote dump left */
export const REMOTE_DUMP_DIR = '/var/lib/libvirt/vmpulse-dumps';

const CHUNK = 1 << 20;

export async function dumpThroughVolume(
  conn: LibvirtConnection,
  uuid: string,
  opts: CoreDumpOptions & { signal: AbortSignal; pool?: string; dir?: string },
): Promise<DumpStream> {
  const pool = opts.pool ?? REMOTE_DUMP_POOL;
  const dir = await conn.storagePoolEnsureDir(pool, opts.dir ?? REMOTE_DUMP_DIR);
  const vol = `${uuid}-${Date.now()}-${randomBytes(4).toString('hex')}.dump`;
  let download: VolumeStream | undefined;
  let stopped = false;
  const removeVolume = () => conn.storageVolDelete(pool, vol).catch(() => {});

  const dumped = conn.coreDump(uuid, `${dir.replace(/\/$/, '')}/${vol}`, opts);
  const stream = new Readable({
    highWaterMark: 4 * CHUNK,
    read() {
      void (async () => {
        try {
          if (!download) {
            await dumped;
            if (stopped) return;
            download = await conn.storageVolDownload(pool, vol);
          }
          const chunk = await download.read(CHUNK);
          this.push(chunk); // null: the end
        } catch (err) {
          this.destroy(err as Error);
        }
      })();
    },
  });
  // The bytes are all read (or the read failed): end the stream on the host and delete the volume.
  const done = new Promise<void>((resolve, reject) => {
    stream.once('end', () => {
      download!
        .finish()
        .then(removeVolume)
        .then(resolve, async (err: unknown) => {
          await removeVolume();
          reject(err);
        });
    });
    stream.once('error', reject);
    stream.once('close', () => {
      if (stream.readableEnded) return;
      reject(new Error('stopped'));
    });
  });
  /** The dump itself cannot be aborted: once it ends on the host, the stream is aborted and the volume goes. */
  let cleaning: Promise<void> | undefined;
  const stopAndClean = () =>
    (cleaning ??= dumped
      .catch(() => {})
      .then(() => download?.abort())
      .catch(() => {})
      .then(removeVolume));
  dumped.catch((err: unknown) => stream.destroy(err as Error));
  stream.once('error', () => void stopAndClean());
  done.catch(() => {});
  return {
    stream,
    done,
    abort(reason) {
      stopped = true;
      stream.destroy(reason);
      void stopAndClean();
    },
  };
}
