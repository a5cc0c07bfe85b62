// Progress people can trust: throughput smoothed over a window of reports, an ETA from it, and for
// live migrations (where dirty memory is sent again) a convergence verdict instead of a percent
// that runs backwards. Pure functions over samples; the service keeps one tracker per running job.

export interface ProgressSample {
  /** ms since epoch */
  t: number;
  /** bytes transferred so far */
  bytes: number;
}

export interface Throughput {
  /** bytes/s over the window; 0 until two samples span some time */
  bytesPerSec: number;
  /** seconds to transfer what remains at that rate; null when unknown (no rate yet) */
  etaSeconds: number | null;
}

/** The samples of the last `windowMs` (always at least the newest two). */
function windowed<T extends { t: number }>(samples: readonly T[], windowMs: number): T[] {
  if (samples.length <= 2) return [...samples];
  const newest = samples[samples.length - 1]!.t;
  let i = samples.length - 2;
  while (i > 0 && newest - samples[i - 1]!.t <= windowMs) i--;
  return samples.slice(i);
}

/** Throughput = bytes moved across the window / its duration; ETA = remaining / throughput. */
export function throughput(samples: readonly ProgressSample[], totalBytes: number, windowMs: number): Throughput {
  const w = windowed(samples, windowMs);
  if (w.length < 2) return { bytesPerSec: 0, etaSeconds: null };
  const first = w[0]!;
  const last = w[w.length - 1]!;
  const dt = (last.t - first.t) / 1000;
  if (dt <= 0) return { bytesPerSec: 0, etaSeconds: null };
  const bytesPerSec = Math.max(0, (last.bytes - first.bytes) / dt);
  const remaining = Math.max(0, totalBytes - last.bytes);
  const etaSeconds = remaining === 0 ? 0 : bytesPerSec > 0 ? Math.ceil(remaining / bytesPerSec) : null;
  return { bytesPerSec, etaSeconds };
}

/** bytes/s → the seed's vma_throughput_mbps (megabits per second, 2 decimals). */
export const toMbps = (bytesPerSec: number) => Math.round(((bytesPerSec * 8) / 1_000_000) * 100) / 100;

/** 0–100, a float as the seed writes it. */
export const percent = (done: number, total: number) => (total > 0 ? Math.min(100, (done / total) * 100) : 0);

// ---- live migration ----------------------------------------------------------------------------

export interface LiveSample {
  t: number;
  /** data remaining (memory + disk), bytes */
  remaining: number;
  /** data processed so far, bytes (only grows) */
  processed: number;
  /** bytes/s the guest dirties memory at (libvirt's memory_dirty_rate × page size) */
  dirtyRateBps: number;
  /** bytes/s libvirt reports sending memory at (memory_bps) */
  transferRateBps: number;
}

export interface Convergence {
  remainingBytes: number;
  dirtyRateBps: number;
  transferRateBps: number;
  /** false when the guest dirties memory at least as fast as it is sent, or remaining does not shrink across the window */
  converging: boolean;
  /** when processed bytes last moved, if they have not moved for `stallMs`; else null */
  stalledSince: number | null;
}

export function convergence(samples: readonly LiveSample[], windowMs: number, stallMs: number): Convergence | null {
  const last = samples[samples.length - 1];
  if (!last) return null;
  const w = windowed(samples, windowMs);
  const first = w[0]!;
  const dirtyWins = last.dirtyRateBps > 0 && last.dirtyRateBps >= last.transferRateBps;
  const notShrinking = w.length >= 3 && last.t - first.t >= windowMs / 2 && last.remaining >= first.remaining;
  // The last time processed bytes grew.
  let movedAt = samples[0]!.t;
  for (let i = 1; i < samples.length; i++) if (samples[i]!.processed > samples[i - 1]!.processed) movedAt = samples[i]!.t;
  const stalledSince = last.t - movedAt >= stallMs ? movedAt : null;
  return {
    remainingBytes: last.remaining,
    dirtyRateBps: last.dirtyRateBps,
    transferRateBps: last.transferRateBps,
    converging: !dirtyWins && !notShrinking,
    stalledSince,
  };
}

/** Keeps a job's recent samples (bounded), for throughput and convergence. */
export class SampleWindow<T extends { t: number }> {
  private readonly samples: T[] = [];
  constructor(
    private readonly keepMs: number,
    private readonly max = 512,
  ) {}
  push(s: T) {
    this.samples.push(s);
    const newest = s.t;
    // Keep one sample older than the window so the window always spans it fully.
    while (this.samples.length > 2 && (newest - this.samples[1]!.t > this.keepMs || this.samples.length > this.max)) this.samples.shift();
  }
  list(): readonly T[] {
    return this.samples;
  }
}
