// Load generator in its own process: graphql-ws clients, each on its own WebSocket, subscribed to
// vmMetrics (spread over VMs) or fleetMetrics. Measures sample→client latency (receive time minus the
// snapshot's `timestamp`, same machine clock) and the bytes each socket reads.
// Usage: tsx ws-clients.ts '<json options>'   → one JSON line on stdout
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

interface Options {
  url: string;
  token: string;
  vmIds: string[];
  vmClients: number;
  fleetClients: number;
  durationMs: number;
  /** tokens for the fleetMetrics clients, round-robin (default: `token`) — e.g. one per scope */
  fleetTokens?: string[];
}
const o = JSON.parse(process.argv[2] ?? '{}') as Options;

// A dashboard's VM panel: the 26 seed metrics and the derived figures it charts.
export const VM_QUERY = `subscription($id: ID!) { vmMetrics(vmId: $id) {
  vmId timestamp state cpus stale ageMs
  cputime timeusr timesys memactual memrss memavailable memusable memswap_in memswap_out memmajor_fault memminor_fault memdisk_cache
  net_rxbytes net_rxpackets net_rxerrors net_rxdrops net_txbytes net_txpackets net_txerrors net_txdrops
  disk_rd_req disk_rd_bytes disk_wr_reqs disk_wr_bytes disk_errors
  cpuPct memPct netRxBps netTxBps diskReadBps diskWriteBps } }`;
// The overview: one compact line per VM.
// The compact form the dashboard uses (columns + one array per VM).
export const FLEET_QUERY = `subscription { fleetMetrics { timestamp columns rows } }`;

type Kind = 'vm' | 'fleet';
interface Sub {
  kind: Kind;
  client: Client;
  socket?: { bytesRead: number };
  bytesAtFirst?: number;
  firstAt?: number;
  messages: number;
  payloadBytes: number;
  latencies: number[];
  errors: string[];
}

const subs: Sub[] = [];
// A socket the server closes (e.g. 4408 when its event loop is blocked past WS_INIT_TIMEOUT while
// 105 clients connect) must not end the run: it is reported with the figures of the others.
const stray: string[] = [];
const describe = (e: unknown) => (e && typeof e === 'object' && 'code' in e ? `closed ${(e as { code: number }).code} ${(e as { reason?: string }).reason ?? ''}` : String(e)).slice(0, 300);
process.on('unhandledRejection', (e) => stray.push(describe(e)));
process.on('uncaughtException', (e) => stray.push(describe(e)));
const lat: Record<Kind, number[]> = { vm: [], fleet: [] };
let measuring = false;

function open(kind: Kind, vmId?: string, token = o.token): Sub {
  const sub: Sub = { kind, client: undefined as never, messages: 0, payloadBytes: 0, latencies: [], errors: [] };
  // Count what the socket really reads (frames + headers + pings), not just the JSON payloads.
  class CountingWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.once('open', () => {
        sub.socket = (this as unknown as { _socket: { bytesRead: number } })._socket;
      });
      this.on('message', (data: Buffer) => {
        if (measuring) sub.payloadBytes += data.length;
      });
    }
  }
  sub.client = createClient({
    url: `${o.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: CountingWebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: (e) => sub.errors.push(describe(e)),
  });
  let first = true;
  sub.client.subscribe<any>(
    kind === 'vm' ? { query: VM_QUERY, variables: { id: vmId } } : { query: FLEET_QUERY },
    {
      next: (msg) => {
        const now = Date.now();
        if (msg.errors) sub.errors.push(JSON.stringify(msg.errors).slice(0, 300));
        // The first message is the current snapshot (older by design): latency counts the stream only.
        if (first) {
          first = false;
          return;
        }
        if (!measuring) return;
        if (sub.bytesAtFirst === undefined) {
          sub.bytesAtFirst = sub.socket?.bytesRead ?? 0;
          sub.firstAt = now;
        }
        sub.messages++;
        let sampledAt: number;
        if (kind === 'vm') {
          const s = msg.data?.vmMetrics;
          if (!s || s.stale) return; // a stale snapshot keeps its old sample time
          sampledAt = Date.parse(s.timestamp);
        } else {
          const f = msg.data?.fleetMetrics;
          const stale = f?.columns.indexOf('stale') ?? -1;
          const ts = f?.columns.indexOf('timestamp') ?? -1;
          sampledAt = Math.max(...(f?.rows ?? []).filter((r: any[]) => !r[stale]).map((r: any[]) => Date.parse(r[ts])));
        }
        if (Number.isFinite(sampledAt)) {
          sub.latencies.push(now - sampledAt);
          lat[kind].push(now - sampledAt);
        }
      },
      error: (e) => sub.errors.push(describe(e)),
      complete: () => {},
    },
  );
  subs.push(sub);
  return sub;
}

const pctl = (v: number[], p: number) => {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

for (let i = 0; i < o.vmClients; i++) open('vm', o.vmIds[i % o.vmIds.length]);
for (let i = 0; i < o.fleetClients; i++) open('fleet', undefined, o.fleetTokens?.length ? o.fleetTokens[i % o.fleetTokens.length] : o.token);
// Let every socket connect and get its first snapshot, then measure.
await new Promise((r) => setTimeout(r, 3000));
measuring = true;
const t0 = Date.now();
await new Promise((r) => setTimeout(r, o.durationMs));
measuring = false;
const windowS = (Date.now() - t0) / 1000;

function summary(kind: Kind) {
  const mine = subs.filter((s) => s.kind === kind);
  const perMin = mine
    .filter((s) => s.socket && s.bytesAtFirst !== undefined && s.firstAt !== undefined)
    .map((s) => ((s.socket!.bytesRead - s.bytesAtFirst!) / Math.max(1, (Date.now() - s.firstAt!) / 1000)) * 60);
  const l = lat[kind];
  return {
    clients: mine.length,
    connected: mine.filter((s) => s.socket).length,
    messages: mine.reduce((a, s) => a + s.messages, 0),
    messagesPerClientPerSec: mine.length ? mine.reduce((a, s) => a + s.messages, 0) / mine.length / windowS : 0,
    latency: { n: l.length, p50: pctl(l, 50), p90: pctl(l, 90), p99: pctl(l, 99), max: pctl(l, 100), min: pctl(l, 0) },
    bytesPerClientPerMin: perMin.length ? Math.round(perMin.reduce((a, b) => a + b, 0) / perMin.length) : null,
    payloadBytesPerMessage: mine.reduce((a, s) => a + s.messages, 0) ? Math.round(mine.reduce((a, s) => a + s.payloadBytes, 0) / mine.reduce((a, s) => a + s.messages, 0)) : null,
    errors: mine.flatMap((s) => s.errors).slice(0, 5),
    failedClients: mine.filter((s) => s.errors.length).length,
  };
}
const result = { windowS, vm: summary('vm'), fleet: summary('fleet'), stray: stray.slice(0, 5) };
await Promise.all(subs.map((s) => Promise.resolve(s.client.dispose()).catch(() => {})));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
