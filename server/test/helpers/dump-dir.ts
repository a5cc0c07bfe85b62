// A DUMP_DIR whose free space does not depend on the machine's disk: the dumps service refuses a
// guest whose memory exceeds the free space there, and the demo fleet's guests have up to 16 GiB.
// A tmpfs's size is a limit, not memory taken (the test driver's dumps are 15 bytes each).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export function roomyDumpDir(parent: string, gib = 64): { dir: string; release(): void } {
  const dir = path.join(parent, 'dumps');
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${gib}g,mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    release() {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {
        /* not mounted */
      }
    },
  };
}
