// Dump directories whose free space the test chooses, not the machine's disk: the dumps service
// refuses a guest whose memory exceeds the free space where its dump goes (DUMP_DIR, or a remote
// storage pool's directory). A tmpfs's size is a limit, not memory taken: only what is written
// costs memory, and `statfs` (and libvirt's pool-info) report the size we set.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export interface Tmpfs {
  dir: string;
  /** a new size in bytes (what is written stays) */
  resize(bytes: number): void;
  release(): void;
}

/** A tmpfs of `bytes` mounted at `dir` (created), mode 0700. */
export function mountTmpfs(dir: string, bytes: number): Tmpfs {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    resize: (size) => execFileSync('mount', ['-o', `remount,size=${size}`, dir]),
    release() {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {
        /* not mounted */
      }
    },
  };
}

/** A DUMP_DIR with room for every demo guest (up to 16 GiB of memory), whatever the disk has free. */
export const roomyDumpDir = (parent: string, gib = 64): Tmpfs => mountTmpfs(path.join(parent, 'dumps'), gib * 2 ** 30);
