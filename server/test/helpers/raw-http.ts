// Raw HTTP over a TCP socket, for what fetch refuses to send: malformed request lines and paths,
// headers that trickle in, bodies announced but never sent, many idle connections.
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** the server closed the connection */
  closed: boolean;
  /** ms from connect to the first response byte (or to the close) */
  ms: number;
}

function endpoint(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

function parse(raw: string, head: boolean): Omit<RawResponse, 'closed' | 'ms'> | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = raw.slice(end + 4);
  const length = headers['content-length'];
  if (!head && length !== undefined && Buffer.byteLength(body) < Number(length)) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/**
 * Writes `chunks` (waiting `gapMs` between them, unless the server answered or closed meanwhile)
 * and resolves with the first response (with `waitClose`, once the server has also closed), or
 * with status 0 when the server closed without one.
 */
export function rawRequest(url: string, chunks: string | (string | Buffer)[], opts: { gapMs?: number; timeoutMs?: number; waitClose?: boolean } = {}): Promise<RawResponse> {
  const list = typeof chunks === 'string' ? [chunks] : chunks;
  const { host, port } = endpoint(url);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = net.connect(port, host);
    let data = '';
    let done = false;
    let answered: Omit<RawResponse, 'closed' | 'ms'> | undefined;
    let firstByteMs = 0;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...(answered ?? { status: 0, headers: {}, body: data }), closed, ms: firstByteMs || Date.now() - t0 });
    };
    const timer = setTimeout(() => (answered ? finish(false) : reject(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms; got ${JSON.stringify(data.slice(0, 300))}`))), opts.timeoutMs ?? 10_000);
    socket.on('data', (d) => {
      firstByteMs ||= Date.now() - t0;
      data += d.toString('latin1');
      answered ??= parse(data, list[0]!.toString().startsWith('HEAD '));
      if (answered && !opts.waitClose) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (const [i, c] of list.entries()) {
        if (done || answered || socket.destroyed) return;
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (socket.writable) socket.write(c);
      }
    });
  });
}

/** Opens `n` TCP connections that send nothing; `closed()` counts those the server has closed. */
export async function idleConnections(url: string, n: number) {
  const { host, port } = endpoint(url);
  const sockets = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Socket & { gone?: boolean }>((resolve) => {
      const s: net.Socket & { gone?: boolean } = net.connect(port, host, () => resolve(s));
      s.resume(); // read, so the server's answer and close are seen
      s.on('close', () => (s.gone = true));
      s.on('error', () => (s.gone = true));
    })),
  );
  return {
    closed: () => sockets.filter((s) => s.gone).length,
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}
