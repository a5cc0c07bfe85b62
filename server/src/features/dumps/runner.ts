// Runs one dump from libvirt to a finished .gz: picks the source (a FIFO on a local host, a
// storage volume streamed back from a remote one), feeds it through the pipeline, follows
// libvirt's job progress, and stops it on cancel or timeout with nothing left behind.
import { rm } from 'node:fs/promises';
import type { DumpFormat, DumpPhase, DumpProgress } from '../../domain/dumps.js';
import type { LibvirtConnection } from '../../libvirt/connection.js';
import { dumpThroughFifo, type DumpStream } from '../../libvirt/dump.js';
import { dumpThroughVolume } from '../../libvirt/dump-remote.js';
import { hashAndGzip, type PipelineResult } from './pipeline.js';
import { computeProgress } from './progress.js';
import type { RemotePool } from './space.js';

export interface DumpTarget {
  conn: LibvirtConnection;
  uuid: string;
  /** libvirt's test driver: no memory-only dumps; it writes a 15-byte placeholder instead */
  testDriver: boolean;
  /** the host is reached over the network (qemu+ssh://…): the dump lands in this storage pool there first; null: a local host */
  remote: RemotePool | null;
  /** the guest's memory, bytes */
  memoryBytes: number;
}

export interface RunOptions {
  format: DumpFormat;
  finalPath: string;
  /** where the FIFO goes (local hosts) */
  workDir: string;
  timeoutMs: number;
  /** aborted by a cancel */
  signal: AbortSignal;
  /** at most one progress message per PROGRESS_EVERY_MS; phase changes always */
  onProgress(p: DumpProgress): void;
}

export type RunOutcome =
  | { status: 'completed'; result: PipelineResult; durationSec: number; startedAt: Date; finishedAt: Date }
  | { status: 'failed' | 'timeout' | 'cancelled'; error: string; startedAt: Date; finishedAt: Date };

class Stop extends Error {
  constructor(readonly status: 'timeout' | 'cancelled', message: string) {
    super(message);
  }
}

/**
 * Progress goes out at most this often, and libvirt's job stats (memory processed) are read as often,
 * so each message carries a fresh figure. At 250 ms a 512 MiB guest dumped into a tmpfs in under a
 * second showed a single percent between 0 and 100 (a CI run of the e2e real-guest dump).
 */
const PROGRESS_EVERY_MS = 100;
const STOP_GRACE_MS = 5000;

export async function runDump(target: DumpTarget, opts: RunOptions): Promise<RunOutcome> {
  const started = Date.now();
  const stopper = new AbortController();
  const timeoutSec = Math.round(opts.timeoutMs / 100) / 10;
  const timer = setTimeout(() => stopper.abort(new Stop('timeout', `Error: Dump exceeded ${timeoutSec} s timeout (DUMP_TIMEOUT)`)), opts.timeoutMs);
  const onCancel = () => stopper.abort(new Stop('cancelled', 'cancelled by request'));
  if (opts.signal.aborted) onCancel();
  else opts.signal.addEventListener('abort', onCancel, { once: true });

  let phase: DumpPhase = 'dumping';
  const counts = { rawBytes: 0, gzipBytes: 0 };
  const job: { memoryTotal?: number; memoryProcessed?: number } = {};
  let lastSent = 0;
  const emit = (force = false) => {
    const now = Date.now();
    if (!force && now - lastSent < PROGRESS_EVERY_MS) return;
    lastSent = now;
    opts.onProgress(computeProgress({ phase, startedAt: started, now, ...counts, ...job, expectedBytes: opts.format === 'elf' ? target.memoryBytes : null }));
  };
  emit(true);

  // libvirt's job stats: memory total / processed while QEMU writes the dump.
  let polling = true;
  let pollTimer: NodeJS.Timeout | undefined;
  const poll = async () => {
    if (!polling) return;
    try {
      const s = await target.conn.jobStats(target.uuid);
      const total = Number(s.params.memory_total ?? 0);
      if (total > 0) {
        job.memoryTotal = total;
        job.memoryProcessed = Number(s.params.memory_processed ?? 0);
      }
    } catch {
      /* no job (yet or any more), or a driver without job stats: the byte counts carry on */
    }
    if (polling) pollTimer = setTimeout(poll, PROGRESS_EVERY_MS);
  };
  if (!target.testDriver) pollTimer = setTimeout(poll, 50);

  let source: DumpStream | undefined;
  let piped: Promise<PipelineResult> | undefined;
  const stopSource = () => source?.abort(stopper.signal.reason as Error);
  stopper.signal.addEventListener('abort', stopSource, { once: true });
  try {
    const libvirtFormat = target.testDriver ? 'raw' : opts.format;
    source = target.remote
      ? await dumpThroughVolume(target.conn, target.uuid, { format: libvirtFormat, signal: stopper.signal, pool: target.remote.name, dir: target.remote.dir })
      : await dumpThroughFifo(target.conn, target.uuid, opts.workDir, { format: libvirtFormat });
    if (stopper.signal.aborted) stopSource();
    source.stream.once('end', () => {
      phase = 'finishing';
      emit(true);
    });
    piped = hashAndGzip(source.stream, opts.finalPath, {
      signal: stopper.signal,
      onProgress: (c) => {
        counts.rawBytes = c.rawBytes;
        counts.gzipBytes = c.gzipBytes;
        emit();
      },
    });
    // Both must succeed: the bytes all read and written, and libvirt's call returning success.
    const [result] = await Promise.all([piped, source.done]);
    if (stopper.signal.aborted) throw stopper.signal.reason;
    const finishedAt = new Date();
    counts.rawBytes = result.rawBytes;
    counts.gzipBytes = result.gzipBytes;
    phase = 'done';
    return { status: 'completed', result, durationSec: Math.round(finishedAt.getTime() - started) / 1000, startedAt: new Date(started), finishedAt };
  } catch (err) {
    stopSource();
    // libvirt's call ends at once when its pipe or stream breaks; do not wait for it forever.
    // Nor for the pipeline, which removes its temporary file and stops its workers.
    if (source) await Promise.race([Promise.all([source.done.catch(() => {}), piped?.catch(() => {})]), new Promise((r) => setTimeout(r, STOP_GRACE_MS))]);
    await rm(opts.finalPath, { force: true });
    const reason = stopper.signal.aborted ? (stopper.signal.reason as Stop) : undefined;
    phase = 'done';
    const finishedAt = new Date();
    if (reason instanceof Stop) return { status: reason.status, error: reason.message, startedAt: new Date(started), finishedAt };
    return { status: 'failed', error: err instanceof Error ? err.message : String(err), startedAt: new Date(started), finishedAt };
  } finally {
    polling = false;
    clearTimeout(pollTimer);
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onCancel);
  }
}
