// Bounded, retrying line buffer between the collector tick and the InfluxDB write endpoint.
// The tick only enqueues (never awaits I/O); one request at a time drains the buffer in order, so a
// slow or absent server can delay history but never the tick. Transient failures (refused, 5xx,
// 429, auth) keep the lines and back off; lines the server refused for good (400) are counted as
// dropped and not retried, since resending them cannot succeed. When full, the oldest lines go first:
// the newest data is worth most to a live monitor.

export type SendOutcome =
  | { kind: 'ok' }
  /** keep the lines and try again later (refused, timeout, 5xx, 429, 401/403) */
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  /** the server refused some or all lines for good; `rejected` = 1-based line numbers, null = all */
  | { kind: 'rejected'; error: string; rejected: number[] | null };

export interface WriteBufferEvents {
  failed(error: string, depth: number, retryInMs: number): void;
  rejected(error: string, count: number): void;
  recovered(afterFailures: number): void;
}

export interface WriteBufferOptions {
  send(lines: string[]): Promise<SendOutcome>;
  batchMaxLines: number;
  batchMaxSec: number;
  maxBufferLines: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** lines that stand for one written snapshot (for the `written` count) */
  isSnapshotLine(line: string): boolean;
  events: WriteBufferEvents;
}

const RETRY_AFTER_CAP_MS = 300_000;

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
  lastError: string | null = null;
  lastWriteMs: number | null = null;

  constructor(private readonly o: WriteBufferOptions) {}

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

  private enforceBound(): void {
    const over = this.depth - this.o.maxBufferLines;
    if (over <= 0) return;
    const n = Math.min(over, this.queue.length - this.head);
    this.head += n;
    this.dropped += n;
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
    if (now < this.retryAt) return this.wakeAt(this.retryAt);
    const due = this.oldestAt + this.o.batchMaxSec * 1000;
    if (pending < this.o.batchMaxLines && now < due && !this.draining && this.failures === 0) return this.wakeAt(due);
    this.stopTimer();
    const batch = this.queue.slice(this.head, this.head + this.o.batchMaxLines);
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
    if (outcome.kind === 'retry') {
      this.failedWrites++;
      this.failures++;
      this.lastError = outcome.error;
      const backoff = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** (this.failures - 1));
      const wait = outcome.retryAfterMs !== undefined ? Math.min(outcome.retryAfterMs, RETRY_AFTER_CAP_MS) : backoff;
      this.retryAt = Date.now() + wait;
      // Put the batch back in front, in order; the bound may now push out the oldest lines.
      this.queue = batch.concat(this.queue.slice(this.head));
      this.head = 0;
      this.enforceBound();
      this.o.events.failed(outcome.error, this.depth, wait);
    } else {
      this.lastWriteMs = Math.round(performance.now() - started);
      if (this.failures > 0) this.o.events.recovered(this.failures);
      this.failures = 0;
      this.retryAt = 0;
      const rejected = outcome.kind === 'rejected' ? (outcome.rejected ? new Set(outcome.rejected) : null) : new Set<number>();
      if (outcome.kind === 'rejected') {
        const count = rejected ? rejected.size : batch.length;
        this.failedWrites++;
        this.dropped += count;
        this.lastError = outcome.error;
        this.o.events.rejected(outcome.error, count);
      }
      if (rejected) batch.forEach((line, i) => { if (!rejected.has(i + 1) && this.o.isSnapshotLine(line)) this.written++; });
    }
    this.pump();
  }
}
