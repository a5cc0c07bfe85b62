// The dump pipeline's native engine without a guest: the .gz it writes must gunzip (node's zlib,
// an independent implementation) to exactly the input, whose SHA-256 (node's crypto) must equal
// the one recorded; through a FIFO it reads itself and through chunks pushed from a stream; and
// a stop leaves no file behind and breaks the writer's pipe.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { hashAndGzip, type PipelineCounts } from '../src/features/dumps/pipeline.js';
import { FifoSource } from '../src/libvirt/dump.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dump-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What a guest's memory looks like: zero pages, text, random (incompressible) data; an odd length. */
function memoryLike(mib: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < mib; i++) {
    if (i % 3 === 0) parts.push(Buffer.alloc(1 << 20));
    else if (i % 3 === 1) parts.push(Buffer.from(`page ${i} of a guest's memory, somewhat repetitive text `.repeat(20000)).subarray(0, 1 << 20));
    else parts.push(randomBytes(1 << 20));
  }
  parts.push(randomBytes(12345));
  return Buffer.concat(parts);
}

function expectGz(file: string, input: Buffer, r: { sha256: string; gzipSha256: string; rawBytes: number; gzipBytes: number }) {
  const gz = readFileSync(file);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(r.rawBytes).toBe(input.length);
  expect(r.gzipBytes).toBe(gz.length);
  expect(r.gzipSha256).toBe(sha(gz));
  const raw = gunzipSync(gz); // reads every member
  expect(raw.length).toBe(input.length);
  expect(sha(raw)).toBe(sha(input));
  expect(r.sha256).toBe(sha(input));
}

/** A FIFO and its read end, plus a write end we hold (as dump.ts does) so no end-of-file comes before the writer's. */
function fifoWith(name: string): { source: FifoSource; fifo: string; keeper: number } {
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', ['-m', '0600', fifo]);
  const source = new FifoSource(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
  return { source, fifo, keeper: openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK) };
}

it('a FIFO read by the engine itself: the .gz gunzips to the input, hashes match, progress is monotonic, the stream ends', async () => {
  const input = memoryLike(9);
  const src = path.join(dir, 'a.bin');
  writeFileSync(src, input);
  const { source, fifo, keeper } = fifoWith('a.fifo');
  const writer = spawn('sh', ['-c', `cat "${src}" > "${fifo}"`]);
  writer.once('exit', () => closeSync(keeper));
  let ended = false;
  source.once('end', () => (ended = true));
  const seen: PipelineCounts[] = [];
  const out = path.join(dir, 'a.mem.gz');
  const r = await hashAndGzip(source, out, { onProgress: (c) => seen.push({ ...c }) });
  expectGz(out, input, r);
  expect(ended).toBe(true);
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.rawBytes).toBeGreaterThanOrEqual(seen[i - 1]!.rawBytes);
  expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
});

it('chunks pushed from a stream (the remote path), of every size, and an empty dump', async () => {
  const input = memoryLike(5);
  const chunks: Buffer[] = [];
  for (let off = 0, n = 1; off < input.length; off += n, n = (n * 7 + 4093) % 700_000) chunks.push(input.subarray(off, off + n));
  const out = path.join(dir, 'b.mem.gz');
  expectGz(out, input, await hashAndGzip(Readable.from(chunks), out));
  const empty = path.join(dir, 'c.mem.gz');
  expectGz(empty, Buffer.alloc(0), await hashAndGzip(Readable.from([]), empty));
});

it('blocks that are all zeros but one byte (first, middle, last) are not taken for zero blocks', async () => {
  const MIB = 1 << 20;
  const input = Buffer.alloc(7 * MIB);
  input[MIB] = 1; // block 1: its first byte
  input[3 * MIB + MIB / 2] = 0xff; // block 3: its middle
  input[6 * MIB - 1] = 7; // block 5: its last byte (blocks 0, 2, 4, 6 stay whole zero blocks)
  const out = path.join(dir, 'z.mem.gz');
  expectGz(out, input, await hashAndGzip(Readable.from([input]), out));
});

it('a stop mid-dump: rejects, leaves no file, and closes the FIFO (the writer gets a broken pipe)', async () => {
  const { source, fifo, keeper } = fifoWith('d.fifo');
  // A writer that never ends on its own: 1 MiB of random bytes, again and again.
  writeFileSync(path.join(dir, 'd.bin'), randomBytes(1 << 20));
  const writer = spawn('sh', ['-c', `while cat "${path.join(dir, 'd.bin')}"; do :; done > "${fifo}"`]);
  const writerExit = new Promise<number | null>((res) => writer.once('exit', (code) => res(code)));
  const stop = new AbortController();
  const out = path.join(dir, 'd.mem.gz');
  let progressed = 0;
  const run = hashAndGzip(source, out, {
    signal: stop.signal,
    onProgress: (c) => {
      progressed = c.rawBytes;
      if (progressed > 20 << 20) stop.abort(new Error('cancelled'));
    },
  });
  await expect(run).rejects.toThrow('cancelled');
  expect(progressed).toBeGreaterThan(20 << 20);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir).filter((f) => f.startsWith('.d.mem.gz'))).toEqual([]);
  // With the read end closed, the shell loop's cat dies of SIGPIPE and so does the loop.
  const code = await Promise.race([writerExit, new Promise((res) => setTimeout(() => res('still running'), 5000))]);
  closeSync(keeper);
  if (code === 'still running') writer.kill('SIGKILL');
  expect(code).not.toBe('still running');
});
