// Bounded, retrying line buffer between the collector tick and the InfluxDB write endpoint.
// The tick only enqueues (never awaits I/O); one request at a time drains the buffer in order, so a
// slow or absent server can delay history but never the tick. Transient failures (refused, 5xx,
// 429, auth) keep the lines and back off exponentially; lines the server refused for good (partial
// writes, limits) are counted (`rejectedLines`, also in `dropped`) and not retried, since resending
// them cannot succeed. A request the server finds too large is resent in halves. When full, the
// oldest lines go first: the newest data is worth most to a live monitor.

export type SendOutcome =
  | { kind: 'ok' }
  /** keep the lines and try again later (refused, timeout, 5xx, 429, 401/403) */
  | { kind: 'retry'; error: string }
  /** the server refused some or all lines for good; `rejected` = 1-based line numbers, null = all */
  | { kind: 'rejected'; error: string; rejected: number[] | null }
  /** the request was over the server's size limit: send smaller batches */
  | { kind: 'tooLarge'; error: string };

interface WriteBufferEvents {
  failed(error: string, depth: number, retryInMs: number): void;
  rejected(error: string, count: number): void;
  recovered(afterFailures: number): void;
  /** a request was too large: batches are now at most `maxBytes` */
  shrunk(error: string, maxBytes: number): void;
}

export interface WriteBufferOptions {
  send(lines: string[]): Promise<SendOutcome>;
  batchMaxLines: number;
  /** bytes of line protocol per request (uncompressed: Core's limit applies after gzip decoding too) */
  batchMaxBytes: number;
  batchMaxSec: number;
  maxBufferLines: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** lines that stand for one written snapshot (for the `written` count) */
  isSnapshotLine(line: string): boolean;
  events: WriteBufferEvents;
}

/** Smallest byte cap a run of 413s can shrink batches to; a lone line larger than this is dropped. */
const MIN_BATCH_BYTES = 1024;

export class WriteBuffer {
  private queue: string[] = [];
  private head = 0;
  private inflight: string[] | null = null;
  private oldestAt = 0;
  private retryAt = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  written = 0;
  failedWrites = 0;
  dropped = 0;
  /** lines the server refused for good (partial writes, limits, a lone line over the size limit) */
  rejectedLines = 0;
  lastError: string | null = null;
  lastWriteMs: number | null = null;

  private maxBytes: number;

  constructor(private readonly o: WriteBufferOptions) {
    this.maxBytes = o.batchMaxBytes;
  }

  get depth(): number {
    return this.queue.length - this.head + (this.inflight?.length ?? 0);
  }

  enqueue(lines: string[]): void {
    if (lines.length === 0) return;
    if (this.queue.length === this.head) this.oldestAt = Date.now();
    for (const line of lines) this.queue.push(line);
    this.enforceBound();
    this.pump();
  }

  /** Sends everything now (ignoring batchMaxSec), waiting at most `timeoutMs`; what is left is dropped. */
  async drain(timeoutMs: number): Promise<number> {
    this.draining = true;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.pump();
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => { timeout = setTimeout(resolve, timeoutMs); });
    await Promise.race([idle, expired]);
    clearTimeout(timeout);
    this.stopTimer();
    const left = this.depth;
    if (left > 0) {
      this.dropped += left;
      this.lastError = `closed with ${left} lines unsent: ${this.lastError ?? 'server did not answer in time'}`;
      this.queue = [];
      this.head = 0;
      this.inflight = null;
    }
    return left;
  }

  /** Puts a batch back in front, in order; the bound may now push out the oldest lines. */
  private requeue(batch: string[]): void {
    this.queue = batch.concat(this.queue.slice(this.head));
    this.head = 0;
    this.enforceBound();
  }

  /**
   * Drops the oldest queued lines past the bound. The batch in flight is not counted: its lines are older
   * than every queued one, so dropping queued lines for it would drop the newest; if it fails it comes back
   * to the head of the queue and goes first. (Memory: at most maxBufferLines + one batch.)
   */
  private enforceBound(): void {
    const over = this.queue.length - this.head - this.o.maxBufferLines;
    if (over <= 0) return;
    this.head += over;
    this.dropped += over;
    this.compact();
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private wakeAt(at: number): void {
    this.stopTimer();
    this.timer = setTimeout(() => { this.timer = null; this.pump(); }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private pump(): void {
    if (this.inflight) return;
    const pending = this.queue.length - this.head;
    if (pending === 0) {
      this.stopTimer();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    const now = Date.now();
    if (now < this.retryAt) {
      this.wakeAt(this.retryAt);
      return;
    }
    const due = this.oldestAt + this.o.batchMaxSec * 1000;
    if (pending < this.o.batchMaxLines && now < due && !this.draining && this.failures === 0) {
      this.wakeAt(due);
      return;
    }
    this.stopTimer();
    let end = this.head;
    const limit = Math.min(this.queue.length, this.head + this.o.batchMaxLines);
    for (let bytes = 0; end < limit; end++) {
      bytes += this.queue[end]!.length + 1;
      if (bytes > this.maxBytes && end > this.head) break;
    }
    const batch = this.queue.slice(this.head, end);
    this.head += batch.length;
    this.compact();
    if (this.head === this.queue.length) { this.queue = []; this.head = 0; }
    this.inflight = batch;
    void this.sendBatch(batch);
  }

  private async sendBatch(batch: string[]): Promise<void> {
    const started = performance.now();
    let outcome: SendOutcome;
    try {
      outcome = await this.o.send(batch);
    } catch (err) {
      outcome = { kind: 'retry', error: err instanceof Error ? err.message : String(err) };
    }
    if (this.inflight !== batch) return; // dropped by drain() while in flight
    this.inflight = null;
    if (outcome.kind === 'tooLarge' && batch.length > 1 && this.maxBytes > MIN_BATCH_BYTES) {
      const bytes = batch.reduce((n, l) => n + l.length + 1, 0);
      this.maxBytes = Math.max(MIN_BATCH_BYTES, Math.floor(Math.min(this.maxBytes, bytes) / 2));
      this.requeue(batch);
      this.o.events.shrunk(outcome.error, this.maxBytes);
    } else if (outcome.kind === 'retry') {
      this.failedWrites++;
      this.failures++;
      this.lastError = outcome.error;
      const wait = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** (this.failures - 1));
      this.retryAt = Date.now() + wait;
      this.requeue(batch);
      this.o.events.failed(outcome.error, this.depth, wait);
    } else {
      this.lastWriteMs = Math.round(performance.now() - started);
      if (this.failures > 0) this.o.events.recovered(this.failures);
      this.failures = 0;
      this.retryAt = 0;
      const rejected = outcome.kind === 'ok' ? new Set<number>() : outcome.kind === 'rejected' && outcome.rejected ? new Set(outcome.rejected) : null;
      if (outcome.kind !== 'ok') {
        const count = rejected ? rejected.size : batch.length;
        this.failedWrites++;
        this.dropped += count;
        this.rejectedLines += count;
        this.lastError = outcome.error;
        this.o.events.rejected(outcome.error, count);
      }
      if (rejected) batch.forEach((line, i) => { if (!rejected.has(i + 1) && this.o.isSnapshotLine(line)) this.written++; });
    }
    this.pump();
  }
}
