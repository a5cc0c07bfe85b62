// Sends one batch of lines to InfluxDB 3's own write endpoint and sorts the answer into ok / partial /
// retry / too large for the write buffer. What each answer means is read from InfluxDB 3 Core's source
// (influxdata/influxdb v3.10.1):
//
//   POST /api/v3/write_lp?db=&precision=millisecond&accept_partial=true&no_sync=false
//     accept_partial: on /api/v2/write and /write Core forces it off (influxdb3_types/src/http.rs,
//       `From<iox_http::write::WriteParams> for WriteParams`: "legacy behaviour was to not accept partial"),
//       so one bad line loses the whole batch; on write_lp each bad line costs only itself.
//     no_sync=false: answered once the WAL is persisted (influxdb3_write/src/write_buffer/mod.rs, write_lp),
//       which is what a buffer that promises "nothing lost" needs. @influxdata/influxdb3-client 2.1.0 only
//       reaches write_lp with no_sync=true, so vmpulse speaks HTTP itself.
//   204                       everything written
//   400 / 422 + {"error":"partial write of line protocol occurred","data":[{error_message,line_number,
//       original_line}]}      the listed lines (1-based) were refused, all others written; 422 when one of
//       them hit a catalog limit (influxdb3_server/src/http.rs, `Error::PartialLpWrite`). Refused lines
//       cannot succeed when resent: they are counted and dropped. `original_line` is cut at 20 bytes
//       (influxdb3_types/src/write.rs, WriteLineError), so lines are matched by number only.
//   422 + {"error":"Adding a new database would exceed limit of 5 databases"} (no data): the database could
//       not be created (Core creates a missing database on first write: WriteValidator::initialize,
//       influxdb3_write/src/write_buffer/validator.rs). Permanent: the batch is dropped, and said so.
//   400 without per-line data (empty write, bad database name, bad parameter): permanent, batch dropped.
//   413 "max request size (10485760 bytes) exceeded" (--max-http-request-size, 10 MiB): resend in halves.
//   401 (no or wrong token), 403: kept and retried: the token may be fixed without losing history.
//   429 "this service is overloaded, please try again later", 5xx, timeouts, refused connections: kept and
//       retried with exponential backoff (Core sends no Retry-After).
//   404/405: not an InfluxDB 3 write endpoint (wrong INFLUX_URL or a proxy): kept and retried, said so.
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { SendOutcome } from './influxdb3-write-buffer.js';

const gzip = promisify(gzipCb);

/** Bodies larger than this are gzipped (Core decodes `Content-Encoding: gzip`, http.rs read_body). */
const GZIP_ABOVE_BYTES = 4096;

export interface LineWriterOptions {
  url: string;
  database: string;
  token?: string;
  timeoutMs: number;
}

/** Any text that might reach a log line or `lastError` passes through here first. */
export function redactor(token: string | undefined): (text: string) => string {
  if (!token) return (text) => text;
  return (text) => text.split(token).join('***');
}

interface LineError { line_number?: unknown; error_message?: unknown; original_line?: unknown }

function parseBody(text: string): { error?: string; data?: unknown } | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    return body && typeof body === 'object' ? (body as { error?: string; data?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

export function createLineWriter(o: LineWriterOptions) {
  const redact = redactor(o.token);
  const endpoint = `${o.url.replace(/\/+$/, '')}/api/v3/write_lp?${new URLSearchParams({
    db: o.database, precision: 'millisecond', accept_partial: 'true', no_sync: 'false',
  })}`;

  async function send(lines: string[]): Promise<SendOutcome> {
    const text = lines.join('\n');
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: Uint8Array<ArrayBuffer> | string = text;
    if (text.length > GZIP_ABOVE_BYTES) {
      body = new Uint8Array(await gzip(text));
      headers['content-encoding'] = 'gzip';
    }
    let status: number;
    let answer: string;
    try {
      const res = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(o.timeoutMs) });
      status = res.status;
      answer = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const reason = e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { kind: 'retry', error: redact(`InfluxDB unreachable at ${o.url}: ${reason}`) };
    }
    if (status >= 200 && status < 300) return { kind: 'ok' };
    const parsed = parseBody(answer);
    const detail = redact((typeof parsed?.error === 'string' ? parsed.error : answer).slice(0, 300));
    if (Array.isArray(parsed?.data)) {
      const items = parsed.data as LineError[];
      const numbers = items.map((d) => Number(d.line_number)).filter((n) => Number.isSafeInteger(n) && n >= 1 && n <= lines.length);
      const first = items[0];
      const why = first ? `line ${String(first.line_number)}: ${String(first.error_message ?? '')}` : detail;
      const more = items.length > 1 ? ` (+${items.length - 1} more)` : '';
      return {
        kind: 'rejected',
        rejected: numbers.length ? numbers : null,
        error: redact(`InfluxDB refused ${numbers.length || lines.length} of ${lines.length} lines (HTTP ${status}${status === 422 ? ', a catalog limit' : ''}): ${why.slice(0, 300)}${more}`),
      };
    }
    if (status === 401 || status === 403) {
      return { kind: 'retry', error: `InfluxDB refused the credentials (HTTP ${status}): check INFLUX_TOKEN and its permissions on database "${o.database}"; buffering` };
    }
    if (status === 413) return { kind: 'tooLarge', error: `InfluxDB refused a ${text.length}-byte request (HTTP 413): ${detail}` };
    if (status === 429 || status >= 500) return { kind: 'retry', error: `InfluxDB write failed (HTTP ${status}): ${detail}` };
    if (status === 404 || status === 405) {
      return { kind: 'retry', error: `no InfluxDB 3 write endpoint at ${o.url} (HTTP ${status}: ${detail}): is INFLUX_URL an InfluxDB 3 server?` };
    }
    if (status === 422) {
      return { kind: 'rejected', rejected: null, error: `InfluxDB cannot store into database "${o.database}" (HTTP 422): ${detail}` };
    }
    return { kind: 'rejected', rejected: null, error: `InfluxDB refused the write (HTTP ${status}): ${detail}` };
  }

  return { send };
}
