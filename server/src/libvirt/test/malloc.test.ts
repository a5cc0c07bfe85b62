import { describe, expect, it } from 'vitest';
import { native } from '../native.js';

describe('native.mallocTrim', () => {
  it('runs malloc_trim off the JS thread and answers whether pages went back (glibc)', async () => {
    // Many small Buffers come from malloc (below the mmap threshold); dropped, they leave free pages.
    let bufs: Buffer[] | undefined = Array.from({ length: 2000 }, () => Buffer.alloc(16 * 1024, 1));
    expect(bufs.length).toBe(2000);
    bufs = undefined;
    const pending = native.mallocTrim();
    expect(pending).toBeInstanceOf(Promise);
    const released = await pending;
    expect(typeof released).toBe('boolean');
    // a second call right after has little or nothing to give back, and still settles
    await expect(native.mallocTrim()).resolves.toBeTypeOf('boolean');
  });
});
