// REST under load (autocannon, in the bench process, apart from the server) and the bytes a client
// polling vm-stats every 5 s moves.
import http from 'node:http';
import autocannon from 'autocannon';

export interface RestLoad {
  path: string;
  gzip: boolean;
  requestsPerSec: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  bytesPerResponse: number;
}

/** autocannon: `connections` keep-alive connections for `durationS`; `paths` are cycled per request. */
export async function restLoad(url: string, auth: Record<string, string>, label: string, paths: string[], opts: { connections: number; durationS: number; gzip?: boolean }): Promise<RestLoad> {
  let i = 0;
  const headers: Record<string, string> = { ...auth, ...(opts.gzip ? { 'accept-encoding': 'gzip' } : {}) };
  const result = await autocannon({
    url,
    connections: opts.connections,
    duration: opts.durationS,
    timeout: 10,
    headers,
    requests: [{ method: 'GET', setupRequest: (req: any) => ({ ...req, path: paths[i++ % paths.length] }) }],
  });
  return {
    path: label,
    gzip: !!opts.gzip,
    requestsPerSec: result.requests.average,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    bytesPerResponse: result.requests.total ? Math.round(result.throughput.total / result.requests.total) : 0,
  };
}

/** Bytes on the wire of one GET on a fresh connection: response (status line, headers, body as sent) and request. */
export function wireBytes(url: string, pathname: string, headers: Record<string, string>): Promise<{ response: number; request: number; body: number; status: number; encoding: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url + pathname, { headers: { ...headers, connection: 'close' }, agent: false, timeout: 10_000 }, (res) => {
      let body = 0;
      res.on('data', (d: Buffer) => (body += d.length));
      res.on('end', () => {
        const sock = res.socket;
        resolve({ response: sock.bytesRead, request: sock.bytesWritten, body, status: res.statusCode ?? 0, encoding: (res.headers['content-encoding'] as string) ?? null });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname} timed out`)));
    req.on('error', reject);
  });
}
