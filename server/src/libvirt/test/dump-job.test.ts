import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../connection.js';
import { type LibvirtError, VirErr } from '../errors.js';
import { coreDumpArgs } from '../flags.js';
import { isUnsupported, tempDir } from './helpers.js';

describe('core dump flags', () => {
  it('maps formats and options to libvirt format/flags', () => {
    expect(coreDumpArgs()).toEqual([0, 0]);
    expect(coreDumpArgs({ format: 'raw', live: true, bypassCache: true })).toEqual([0, 2 | 4]);
    // memory-only ELF = RAW format + VIR_DUMP_MEMORY_ONLY
    expect(coreDumpArgs({ format: 'elf' })).toEqual([0, 16]);
    expect(coreDumpArgs({ format: 'kdump-zlib' })).toEqual([1, 16]);
    expect(coreDumpArgs({ format: 'kdump-lzo', crash: true })).toEqual([2, 16 | 1]);
    expect(coreDumpArgs({ format: 'kdump-snappy', reset: true })).toEqual([3, 16 | 8]);
    expect(coreDumpArgs({ format: 'win-dmp' })).toEqual([4, 16]);
    expect(() => coreDumpArgs({ format: 'zip' as never })).toThrow(TypeError);
  });
});

describe('core dump and jobs on the test driver', () => {
  it('writes a dump file; memory-only and job calls are unsupported there', async () => {
    const conn = await LibvirtConnection.open('test:///default');
    const [dom] = await conn.listAllDomains();
    const path = join(tempDir(), 'test.dump');
    await conn.coreDump(dom!.uuid, path, { format: 'raw' });
    expect(existsSync(path) && statSync(path).size).toBeGreaterThan(0);

    const elf = await conn.coreDump(dom!.uuid, join(tempDir(), 'x.elf'), { format: 'elf' }).catch((e: unknown) => e);
    expect((elf as LibvirtError).code).toBe(VirErr.INVALID_ARG);

    const job = await conn.jobStats(dom!.uuid).catch((e: unknown) => e);
    expect(isUnsupported(job)).toBe(true);
    expect(isUnsupported(await conn.abortJob(dom!.uuid).catch((e: unknown) => e))).toBe(true);
    await conn.close();
  });

  it('many concurrent dumps each run on their own thread and all settle', async () => {
    const conn = await LibvirtConnection.open('test:///default');
    const [dom] = await conn.listAllDomains();
    const dir = tempDir();
    await Promise.all(Array.from({ length: 8 }, (_, i) => conn.coreDump(dom!.uuid, join(dir, `d${i}`))));
    expect(await conn.listAllDomains()).toHaveLength(1);
    await conn.close();
  });
});
