// Room for a dump, checked before it is asked for: free space in DUMP_DIR (the .gz lands there,
// whatever the host) and, for a remote host, the available bytes of the storage pool on that host
// that libvirt writes the raw dump into first (virStoragePoolGetInfo, refreshed). Both against the
// guest's memory (a memory-only ELF dump is about that size) plus what the dumps ahead of it on the
// same DUMP_DIR or the same remote pool (running, or queued before it) will still write there:
// free space alone lets three concurrent 1 GiB dumps onto 1.5 GiB pass, then fill the disk.
import { statfs } from 'node:fs/promises';
import type { LibvirtConnection } from '../../libvirt/connection.js';
import type { Host, Vm } from '../inventory/feature.js';

/** The storage pool on remote hosts that dumps are written into, and its directory there. */
export interface RemotePool {
  name: string;
  dir: string;
}

/** A dump ahead of the one checked, and the bytes it will still write (see stillToWrite). */
export interface DumpAhead {
  /** its record id; null for one accepted earlier in the same trigger (no record yet) */
  id: number | null;
  vmName: string;
  /** the host it dumps from, when remote (it also fills that host's pool); null: a local host */
  remoteHostUri: string | null;
  /** bytes it will still write into DUMP_DIR */
  dumpDirBytes: number;
  /** bytes it will still write into the remote pool */
  poolBytes: number;
}

/** A guest's memory in bytes: the size of its memory-only dump, about (0: a VM no longer known). */
export const guestMemoryBytes = (vm: Vm | undefined) => (vm ? Number(vm.memoryMax) * 1024 : 0);

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** A URI with a host part (qemu+ssh://user@host/system): libvirt writes the dump on that host, not here. */
export function isRemoteUri(uri: string): boolean {
  try {
    return new URL(uri).hostname !== '';
  } catch {
    return false;
  }
}

/**
 * What a dump of a guest with `memoryBytes` of memory will still write, from what it has done so
 * far (its live progress; none: it has not started here). DUMP_DIR: the guest's memory minus the
 * gzip bytes already written (a .gz is not larger than its raw dump; what is written already shows
 * in the free space). Remote pool: the guest's memory minus what libvirt has written into the
 * volume, i.e. its job's processed share while it dumps, all of it once the volume is streamed
 * back (raw bytes read).
 */
function stillToWrite(
  memoryBytes: number,
  remote: boolean,
  progress?: { rawBytes: number; gzipBytes: number; percent: number | null },
): { dumpDirBytes: number; poolBytes: number } {
  const dumpDirBytes = Math.max(0, memoryBytes - (progress?.gzipBytes ?? 0));
  if (!remote) return { dumpDirBytes, poolBytes: 0 };
  const inVolume = !progress ? 0 : progress.rawBytes > 0 ? memoryBytes : (memoryBytes * (progress.percent ?? 0)) / 100;
  return { dumpDirBytes, poolBytes: Math.max(0, memoryBytes - inVolume) };
}

/** A dump ahead as DumpAhead: what it will still write into DUMP_DIR (when `inDumpDir`) and into its remote host's pool. */
export function dumpAhead(
  d: { id: number | null; vmName: string; hostUri: string; memoryBytes: number; inDumpDir: boolean },
  progress?: { rawBytes: number; gzipBytes: number; percent: number | null },
): DumpAhead {
  const remote = isRemoteUri(d.hostUri);
  const left = stillToWrite(d.memoryBytes, remote, progress);
  return { id: d.id, vmName: d.vmName, remoteHostUri: remote ? d.hostUri : null, dumpDirBytes: d.inDumpDir ? left.dumpDirBytes : 0, poolBytes: left.poolBytes };
}

/** The part of a refusal that names the dumps ahead and what they still need. */
function aheadClause(ahead: DumpAhead[], bytes: number, where: string): string {
  const named = ahead.map((d) => (d.id === null ? `VM ${d.vmName} (this trigger)` : `dump ${d.id} of VM ${d.vmName}`));
  const list = named.length > 5 ? `${named.slice(0, 5).join(', ')}, …` : named.join(', ');
  return `${gib(bytes)} of it still needed by ${ahead.length} dump${ahead.length === 1 ? '' : 's'} queued or running ${where} (${list})`;
}

/**
 * Free space, read once and kept for one admission (a trigger's VMs, or a dump's start): DUMP_DIR's
 * statfs, and per remote host its pool (directory ensured, info refreshed). Nothing the admission
 * itself does changes them; the dumps it accepts are counted as `ahead` instead.
 */
export function freeSpace(opts: { dumpDir: string; remotePool: RemotePool }) {
  let dumpDir: Promise<number> | undefined;
  const pools = new Map<string, Promise<{ path: string; available: number }>>();
  return {
    dumpDir: () => (dumpDir ??= statfs(opts.dumpDir).then((fs) => Number(fs.bavail) * Number(fs.bsize))),
    pool(hostUri: string, conn: LibvirtConnection) {
      let p = pools.get(hostUri);
      if (!p) {
        const { name, dir } = opts.remotePool;
        p = conn.storagePoolEnsureDir(name, dir).then(async (path) => ({ path, available: (await conn.storagePoolInfo(name)).available }));
        pools.set(hostUri, p);
      }
      return p;
    },
  };
}
export type FreeSpace = ReturnType<typeof freeSpace>;

/** Why there is no room to dump this VM now, or null. `ahead`: the dumps before it (see DumpAhead). */
export async function spaceRefusal(
  vm: Vm,
  host: Host,
  opts: { dumpDir: string; remotePool: RemotePool },
  ahead: DumpAhead[] = [],
  space: FreeSpace = freeSpace(opts),
): Promise<string | null> {
  const need = guestMemoryBytes(vm);
  const free = await space.dumpDir();
  const localAhead = ahead.filter((d) => d.dumpDirBytes > 0);
  const reserved = localAhead.reduce((s, d) => s + d.dumpDirBytes, 0);
  if (free - reserved < need) {
    // The dumps ahead are named only when they are why it does not fit.
    const held = free >= need ? `, ${aheadClause(localAhead, reserved, 'there')}` : '';
    return `not enough free space in DUMP_DIR (${opts.dumpDir}): ${gib(free)} free${held}, VM ${vm.name} has ${gib(need)} of memory`;
  }
  if (!isRemoteUri(host.uri) || !host.conn) return null;
  const { name } = opts.remotePool;
  const poolAhead = ahead.filter((d) => d.remoteHostUri === host.uri && d.poolBytes > 0);
  const poolReserved = poolAhead.reduce((s, d) => s + d.poolBytes, 0);
  try {
    const { path, available } = await space.pool(host.uri, host.conn);
    if (available - poolReserved < need) {
      const held = available >= need ? `, ${aheadClause(poolAhead, poolReserved, 'in it')}` : '';
      return `not enough free space in storage pool ${name} (${path}) on host ${host.name}: ${gib(available)} available${held}, VM ${vm.name} has ${gib(need)} of memory`;
    }
  } catch (err) {
    return `cannot check free space in storage pool ${name} on host ${host.name}: ${err instanceof Error ? err.message : String(err)}`;
  }
  return null;
}
