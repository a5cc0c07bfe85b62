// GET /metrics as Prometheus scrapes it: one request at a time, Prometheus' Accept and
// Accept-Encoding headers, on a keep-alive connection. Latency per scrape (client side), bytes on
// the wire (compressed body) and of the body unzipped, and the series count. The same loop runs
// against Debian's prometheus-libvirt-exporter on the same fleet for comparison.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { pct } from './util.js';

export const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export interface ScrapeRun {
  scrapes: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  /** body bytes as sent (gzip when the server compressed it) */
  wireBodyBytes: number;
  bodyBytes: number;
  contentType: string | null;
  encoding: string | null;
  /** sample lines of the last scrape, and of them libvirt_domain_* */
  samples: number;
  vmSamples: number;
  non200: number;
}

function get(agent: http.Agent, url: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer; type: string | null; encoding: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), type: (res.headers['content-type'] as string) ?? null, encoding: (res.headers['content-encoding'] as string) ?? null }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** `scrapes` sequential GETs of `url`; `gzip` sends Accept-Encoding: gzip as Prometheus does. */
export async function scrape(url: string, headers: Record<string, string>, opts: { scrapes: number; gzip: boolean }): Promise<ScrapeRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const h = { accept: PROMETHEUS_ACCEPT, ...(opts.gzip ? { 'accept-encoding': 'gzip' } : {}), ...headers };
  const lat: number[] = [];
  let last: Awaited<ReturnType<typeof get>> | undefined;
  let non200 = 0;
  try {
    for (let i = 0; i < opts.scrapes; i++) {
      const t0 = performance.now();
      last = await get(agent, url, h);
      lat.push(performance.now() - t0);
      if (last.status !== 200) non200++;
    }
  } finally {
    agent.destroy();
  }
  const text = last ? (last.encoding === 'gzip' ? gunzipSync(last.body) : last.body).toString() : '';
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    scrapes: opts.scrapes,
    latencyMs: { p50: r2(pct(lat, 50)), p99: r2(pct(lat, 99)), max: r2(Math.max(...lat)), mean: r2(lat.reduce((a, b) => a + b, 0) / lat.length) },
    wireBodyBytes: last?.body.length ?? 0,
    bodyBytes: Buffer.byteLength(text),
    contentType: last?.type ?? null,
    encoding: last?.encoding ?? null,
    samples: lines.length,
    vmSamples: lines.filter((l) => l.startsWith('libvirt_domain_')).length,
    non200,
  };
}
