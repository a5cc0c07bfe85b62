// Room for a dump, checked before it is asked for: free space in DUMP_DIR (the .gz lands there,
// whatever the host) and, for a remote host, the available bytes of the storage pool on that host
// that libvirt writes the raw dump into first (virStoragePoolGetInfo, refreshed). Both against the
// guest's memory: a memory-only ELF dump is about that size.
import { statfs } from 'node:fs/promises';
import type { Host, Vm } from '../inventory/feature.js';

/** The storage pool on remote hosts that dumps are written into, and its directory there. */
export interface RemotePool {
  name: string;
  dir: string;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** A URI with a host part (qemu+ssh://user@host/system): libvirt writes the dump on that host, not here. */
export function isRemoteUri(uri: string): boolean {
  try {
    return new URL(uri).hostname !== '';
  } catch {
    return false;
  }
}

/** Why there is no room to dump this VM now, or null. */
export async function spaceRefusal(vm: Vm, host: Host, opts: { dumpDir: string; remotePool: RemotePool }): Promise<string | null> {
  const need = Number(vm.memoryMax) * 1024;
  const fs = await statfs(opts.dumpDir);
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < need) return `not enough free space in DUMP_DIR (${opts.dumpDir}): ${gib(free)} free, VM ${vm.name} has ${gib(need)} of memory`;
  if (!isRemoteUri(host.uri) || !host.conn) return null;
  const { name, dir } = opts.remotePool;
  let available: number;
  try {
    const path = await host.conn.storagePoolEnsureDir(name, dir);
    available = (await host.conn.storagePoolInfo(name)).available;
    if (available < need) return `not enough free space in storage pool ${name} (${path}) on host ${host.name}: ${gib(available)} available, VM ${vm.name} has ${gib(need)} of memory`;
  } catch (err) {
    return `cannot check free space in storage pool ${name} on host ${host.name}: ${err instanceof Error ? err.message : String(err)}`;
  }
  return null;
}
