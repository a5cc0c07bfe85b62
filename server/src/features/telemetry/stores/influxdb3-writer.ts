// Sends one batch of lines through @influxdata/influxdb3-client and sorts the outcome into
// retry / rejected / ok for the write buffer. The client does one HTTP POST per write() with no
// retry of its own, which is what we want: retrying and bounding belong to the buffer.
//
// Path: the client's default `/api/v2/write?bucket=&precision=ms` (InfluxDB 3 Core/Enterprise serve
// it as the v2 compatibility endpoint). Its only route to `/api/v3/write_lp` is `noSync: true`, which
// answers before the WAL is persisted; a buffer that promises "nothing lost" needs the durable answer.
// Both answer 204 on success and the same partial-write 400 body on bad lines.
import { HttpError, InfluxDBClient, setLogger } from '@influxdata/influxdb3-client';
import type { Logger } from '../../../lib/logger.js';
import type { SendOutcome } from './influxdb3-write-buffer.js';

export interface LineWriterOptions {
  url: string;
  database: string;
  token?: string;
  timeoutMs: number;
  log: Logger;
}

export interface LineWriter {
  send(lines: string[]): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** Any text that might reach a log line or `lastError` passes through here first. */
export function redactor(token: string | undefined): (text: string) => string {
  if (!token) return (text) => text;
  return (text) => text.split(token).join('***');
}

interface PartialWriteBody {
  error?: string;
  data?: { original_line?: string; line_number?: number; error_message?: string }[] | { error_message?: string };
}

function parseRetryAfter(value: unknown): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describeRejected(status: number, body: PartialWriteBody | undefined, raw: string | undefined): { error: string; rejected: number[] | null } {
  const items = Array.isArray(body?.data) ? body.data : [];
  const numbered = items.filter((d) => typeof d.line_number === 'number');
  const first = items[0];
  const detail = first
    ? `line ${first.line_number ?? '?'}: ${first.error_message ?? 'rejected'}${first.original_line ? ` (${first.original_line.slice(0, 200)})` : ''}`
    : (body?.error ?? raw ?? '').slice(0, 300);
  const count = numbered.length ? `${numbered.length} line(s) rejected` : 'batch rejected';
  return {
    error: `InfluxDB write ${status}: ${count}; ${detail}${items.length > 1 ? ` (+${items.length - 1} more)` : ''}`,
    rejected: numbered.length ? numbered.map((d) => d.line_number as number) : null,
  };
}

export function createLineWriter(o: LineWriterOptions): LineWriter {
  const redact = redactor(o.token);
  // The client logs every failed write to the console by itself; the buffer reports failures once,
  // through our logger, so the client's own messages go to debug level (redacted all the same).
  setLogger({
    error: (message: string, err?: unknown) => o.log.debug(redact(`influxdb3-client: ${message} ${err instanceof Error ? err.message : ''}`)),
    warn: (message: string, err?: unknown) => o.log.debug(redact(`influxdb3-client: ${message} ${err instanceof Error ? err.message : ''}`)),
  });
  const client = new InfluxDBClient({
    host: o.url,
    token: o.token,
    authScheme: 'Bearer',
    database: o.database,
    writeTimeout: o.timeoutMs,
    writeOptions: { precision: 'ms' },
  });

  async function send(lines: string[]): Promise<SendOutcome> {
    try {
      await client.write(lines, o.database, undefined, { precision: 'ms' });
      return { kind: 'ok' };
    } catch (err) {
      if (err instanceof HttpError) {
        const status = err.statusCode;
        const body = (err.json ?? undefined) as PartialWriteBody | undefined;
        const text = redact((body?.error ?? err.body ?? err.statusMessage ?? '').toString().slice(0, 300));
        if (status === 401 || status === 403) {
          return { kind: 'retry', error: `InfluxDB refused the credentials (HTTP ${status}): check INFLUX_TOKEN and its permissions on database "${o.database}"; buffering` };
        }
        if (status === 429 || status >= 500) {
          return { kind: 'retry', error: `InfluxDB write failed (HTTP ${status}): ${text}`, retryAfterMs: parseRetryAfter(err.headers?.['retry-after']) };
        }
        if (status === 404 || status === 408) return { kind: 'retry', error: `InfluxDB write failed (HTTP ${status}): ${text}` };
        const rejected = describeRejected(status, body, err.body);
        return { kind: 'rejected', error: redact(rejected.error), rejected: rejected.rejected };
      }
      const e = err as Error & { code?: string };
      const message = e.message || String(err);
      const reason = e.code && !message.includes(e.code) ? `${e.code} ${message}` : message;
      return { kind: 'retry', error: redact(`InfluxDB unreachable at ${o.url}: ${reason}`) };
    }
  }

  return { send, close: () => client.close() };
}
