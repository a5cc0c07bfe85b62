// The worker threads of the dump pipeline (pipeline.ts), as plain JavaScript sources run with
// `eval: true`, so they start the same under tsx, vitest and the built server.
//
// gzip worker: compresses one raw block (a SharedArrayBuffer) into one complete gzip member
// (level 1) and sends it back. Blocks go to several of these in turn, pigz-style; their members,
// written in order, are one standard .gz (gunzip and zcat read concatenated members as one stream).
//
// sink worker: SHA-256 of the raw blocks in order (the seed's sha256), SHA-256 of the members in
// order, and writes the members to the file descriptor it was given. It never closes it: the
// main thread does, also when a worker fails or is stopped.

export const GZIP_WORKER = `
const { parentPort } = require('node:worker_threads');
const { gzipSync } = require('node:zlib');
parentPort.on('message', ({ seq, raw, len }) => {
  const member = gzipSync(new Uint8Array(raw, 0, len), { level: 1 });
  const out = new Uint8Array(member.length);
  out.set(member);
  parentPort.postMessage({ seq, gz: out }, [out.buffer]);
});
`;

export const SINK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { writeSync } = require('node:fs');
const raw = createHash('sha256');
const gz = createHash('sha256');
parentPort.on('message', (m) => {
  if (m.raw) {
    raw.update(new Uint8Array(m.raw, 0, m.len));
  } else if (m.gz) {
    gz.update(m.gz);
    for (let off = 0; off < m.gz.length; ) off += writeSync(workerData.fd, m.gz, off);
    parentPort.postMessage({ written: m.gz.length });
  } else if (m.end) {
    parentPort.postMessage({ sha256: raw.digest('hex'), gzipSha256: gz.digest('hex') });
  }
});
`;
