// What hostile clients send, and a raw graphql-ws socket to send it with.
import WebSocket from 'ws';

/** `{ vms { latest { vm { latest { … } } } } }`-like nesting, `depth` levels of `a{`. */
export const deepSelection = (depth: number) => `{${'a{'.repeat(depth)}b${'}'.repeat(depth)}}`;

/** `n` aliases of one field. */
export const manyAliases = (n: number, field = 'me { name }') => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/** Fragments L1…Ln, each spreading the next one twice under two aliases: the answer doubles per level. */
export function fanOut(levels: number, leaf = 'id name state') {
  const frags: string[] = [];
  for (let i = 1; i < levels; i++) frags.push(`fragment L${i} on Vm { a: latest { vm { ...L${i + 1} } } b: latest { vm { ...L${i + 1} } } }`);
  frags.push(`fragment L${levels} on Vm { ${leaf} }`);
  return `query FanOut { vms { ...L1 } }\n${frags.join('\n')}`;
}

export interface RawSocket {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string; at: number }>;
  opened: Promise<void>;
  send(msg: unknown): void;
  /** the first message matching, within `ms` */
  next(pred: (m: any) => boolean, ms?: number): Promise<any>;
}

/** A graphql-transport-ws socket driven by hand: frames and messages exactly as given. */
export function rawSocket(url: string): RawSocket {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: any[] = [];
  const waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    messages.push(m);
    for (const w of [...waiters]) {
      if (!w.pred(m)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason), at: Date.now() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('closed before open')));
  });
  opened.catch(() => {});
  return {
    ws,
    messages,
    closed,
    opened,
    send: (msg) => ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg)),
    next(pred, ms = 10_000) {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(messages).slice(0, 500)}`)), ms);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
  };
}

/** Opens a raw socket and gets it acknowledged with `token`. */
export async function initSocket(url: string, token: string): Promise<RawSocket> {
  const s = rawSocket(url);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await s.next((m) => m.type === 'connection_ack');
  return s;
}

const readers = new WeakMap<Response, { reader: ReadableStreamDefaultReader<Uint8Array>; pending?: Promise<ReadableStreamReadResult<Uint8Array>> }>();

/** Reads an SSE response until `until` matches the text read by this call (or the stream ends); can be called again. */
export async function readSse(res: Response, until: (text: string) => boolean, ms = 10_000): Promise<{ text: string; ended: boolean }> {
  const state = readers.get(res) ?? { reader: res.body!.getReader() };
  readers.set(res, state);
  let text = '';
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { text, ended: false };
    state.pending ??= state.reader.read();
    const got = await Promise.race([state.pending, new Promise<null>((resolve) => setTimeout(() => resolve(null), left))]);
    if (got === null) return { text, ended: false };
    state.pending = undefined;
    if (got.done) return { text, ended: true };
    text += new TextDecoder().decode(got.value);
    if (until(text)) return { text, ended: false };
  }
}
