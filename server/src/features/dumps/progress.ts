// Progress of one dump from what libvirt's job stats say (memory total / processed) and what the
// pipeline counted (raw bytes in, gzip bytes out).
import type { DumpPhase, DumpProgress } from '../../domain/dumps.js';

export interface ProgressInputs {
  phase: DumpPhase;
  /** when the dump started, ms since the epoch; null while queued */
  startedAt: number | null;
  now: number;
  rawBytes: number;
  gzipBytes: number;
  /** libvirt job stats, when the driver reports them */
  memoryTotal?: number;
  memoryProcessed?: number;
  /** the guest's memory in bytes: the expected raw size of an ELF dump when libvirt says nothing */
  expectedBytes: number | null;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

export function computeProgress(p: ProgressInputs): DumpProgress {
  const elapsedSec = p.startedAt === null ? 0 : Math.max(0, (p.now - p.startedAt) / 1000);
  let fraction: number | null = null;
  if (p.phase === 'done') fraction = 1;
  else if (p.memoryTotal && p.memoryTotal > 0) fraction = (p.memoryProcessed ?? 0) / p.memoryTotal;
  else if (p.expectedBytes && p.expectedBytes > 0 && p.phase !== 'queued') fraction = p.rawBytes / p.expectedBytes;
  if (fraction !== null) fraction = Math.min(1, Math.max(0, fraction));
  // 100 % only once everything is written and recorded.
  if (fraction !== null && p.phase !== 'done') fraction = Math.min(fraction, 0.99);
  const mbPerSec = elapsedSec > 0.05 && p.rawBytes > 0 ? p.rawBytes / 1e6 / elapsedSec : null;
  const etaSec =
    p.phase === 'done' ? 0 : fraction !== null && fraction > 0.01 && elapsedSec > 0 ? round((elapsedSec * (1 - fraction)) / fraction, 1) : null;
  return {
    phase: p.phase,
    percent: fraction === null ? null : round(fraction * 100, 1),
    rawBytes: p.rawBytes,
    gzipBytes: p.gzipBytes,
    mbPerSec: mbPerSec === null ? null : round(mbPerSec, 2),
    etaSec,
    compressionRatio: p.gzipBytes > 0 ? round(p.rawBytes / p.gzipBytes, 2) : null,
  };
}
