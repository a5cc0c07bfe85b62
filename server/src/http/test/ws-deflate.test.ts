// ws-deflate against ws' own client-side inflater (the oracle: it knows nothing of our dictionaries).
// A browser's inflater is the e2e suite's.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { SYNC_MAX_BYTES, deflateOnTheLoop } from '../ws-deflate.js';

let wss: WebSocketServer;
let url: string;
/** what each server socket should send, in order, once its client asks with "go" */
let script: (string | Buffer)[] = [];
/** the permessage-deflate parameters the server side of the last socket agreed to */
let agreed: Record<string, unknown> | undefined;
/** per message of the last script: had its frame reached the TCP socket when send() returned? */
let framedInSend: boolean[] = [];

beforeAll(async () => {
  // The server's own settings (graphql-ws.ts).
  wss = new WebSocketServer({ port: 0, perMessageDeflate: { threshold: 4096, serverMaxWindowBits: 11, zlibDeflateOptions: { level: 1, memLevel: 5 } } });
  wss.on('connection', (socket) => {
    deflateOnTheLoop(socket);
    agreed = (socket as unknown as { _extensions: Record<string, { params: Record<string, unknown> } | undefined> })._extensions['permessage-deflate']?.params;
    socket.on('message', () => {
      const tcp = (socket as unknown as { _socket: { bytesWritten: number } })._socket;
      framedInSend = script.map((m) => {
        const before = tcp.bytesWritten;
        socket.send(m);
        return tcp.bytesWritten > before;
      });
    });
  });
  await once(wss, 'listening');
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

/** Sends "go", collects `count` messages; resolves with them and the bytes the client's TCP socket read. */
async function receive(count: number, perMessageDeflate: WebSocket.ClientOptions['perMessageDeflate'] = true) {
  const client = new WebSocket(url, { perMessageDeflate });
  await once(client, 'open');
  const got: Buffer[] = [];
  const done = new Promise<void>((resolve) =>
    client.on('message', (data: Buffer) => {
      got.push(data);
      if (got.length === count) resolve();
    }),
  );
  const before = (client as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
  client.send('go');
  await done;
  const wire = (client as unknown as { _socket: { bytesRead: number } })._socket.bytesRead - before;
  const extensions = client.extensions;
  client.close();
  return { got, wire, extensions };
}

const vmMessage = (i: number) =>
  JSON.stringify({ id: '1', type: 'next', payload: { data: { vmMetrics: { vmId: 7, ts: 1_764_000_000_000 + i * 1000, cpuPct: { total: (i * 7.31) % 100 }, memPct: (i * 3.7) % 100, metrics: { cputime: String(123_456_789_000 + i * 987_654_321) } } } } });

function largeMessage(seed: number): string {
  const rows = [];
  for (let i = 0; i < 1500; i++) rows.push({ vmId: i, name: `vm-${i}`, cpuPct: ((i * seed) % 997) / 10, netRxBps: (i * seed * 31) % 100_003 });
  return JSON.stringify({ type: 'next', payload: { data: { fleetMetrics: { vms: rows } } } });
}

describe('ws-deflate: permessage-deflate on the event loop', () => {
  it('a client with context takeover reads back every message, small and large interleaved, exactly', async () => {
    const large = largeMessage(3);
    expect(Buffer.byteLength(large)).toBeGreaterThan(SYNC_MAX_BYTES);
    script = [vmMessage(0), vmMessage(1), large, vmMessage(2), 'ü€😀 not ascii', largeMessage(5), vmMessage(3), Buffer.from([0, 1, 2, 255])];
    const { got, extensions } = await receive(script.length);
    expect(extensions).toBe('permessage-deflate');
    expect(agreed).toMatchObject({ server_max_window_bits: 11 });
    expect(agreed).not.toHaveProperty('server_no_context_takeover');
    expect(got.map((b) => b.toString('latin1'))).toEqual(script.map((m) => Buffer.from(m).toString('latin1')));
    // Small messages are deflated and framed within send() (ws alone would wait for the libuv pool);
    // each large one goes to the pool, and the messages after it wait their turn behind it.
    expect(framedInSend).toEqual([true, true, false, false, false, false, false, false]);
  });

  it('uses what the socket sent before: a repeated message costs a few bytes on the wire', async () => {
    const m = vmMessage(42);
    script = Array.from({ length: 50 }, () => m);
    const { got, wire } = await receive(50);
    expect(got.every((b) => b.toString() === m)).toBe(true);
    // Alone, the message deflates to a few hundred bytes; 50 of them without the dictionary would be ~15 KB.
    expect(wire).toBeLessThan(Buffer.byteLength(m) + 50 * 20);
  });

  it('with server_no_context_takeover each message stands alone, and still arrives intact', async () => {
    const m = vmMessage(9);
    script = [...Array.from({ length: 20 }, () => m), largeMessage(7), m];
    const { got, wire } = await receive(22, { serverNoContextTakeover: true });
    expect(agreed).toMatchObject({ server_no_context_takeover: true });
    expect(got.map(String)).toEqual(script);
    // every copy of the small message is compressed on its own, to more than 20 bytes
    expect(wire).toBeGreaterThan(21 * 40);
  });

  it('a client without permessage-deflate gets plain frames', async () => {
    script = [vmMessage(1), largeMessage(2)];
    const { got, wire, extensions } = await receive(2, false);
    expect(extensions).toBe('');
    expect(agreed).toBeUndefined();
    expect(got.map(String)).toEqual(script);
    expect(wire).toBeGreaterThan(Buffer.byteLength(script[1]!));
  });
});
