// A memory-only dump of a domain on a REMOTE host (qemu+ssh://…): not built yet.
import type { LibvirtConnection } from './connection.js';
import type { DumpStream } from './dump.js';
import type { CoreDumpOptions } from './types.js';

export async function dumpThroughVolume(_conn: LibvirtConnection, _uuid: string, _opts: CoreDumpOptions & { signal: AbortSignal }): Promise<DumpStream> {
  throw new Error('dumps of VMs on remote hosts (qemu+ssh://…) are not supported yet');
}
