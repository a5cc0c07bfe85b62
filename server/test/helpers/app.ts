// Starts a real vmpulse (embedded PostgreSQL, real libvirt) on a free port for a test file.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';

export const ADMIN = 'test-admin-token-0123456789';

export interface TestApp {
  app: App;
  url: string;
  dataDir: string;
  /** fetch with the admin token unless `token` is given (null: no header) */
  api(pathname: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ status: number; body: { data?: T; errors?: any } }>;
  ws(token?: string | null): Client;
  stop(): Promise<void>;
}

const ownDirs = new Set<string>();

/** A temporary DATA_DIR for a test app (to put a fleet file in before it starts): removed by the app's `stop()`. */
export function testDataDir(prefix = 'vmpulse-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  ownDirs.add(dir);
  return dir;
}

/**
 * `log`: a logger of the test's own (to read what the server logs); default silent unless TEST_LOG_LEVEL.
 * Without `dataDir` the app gets a temporary one of its own, removed by `stop()`, as is one from
 * `testDataDir()`; any other `dataDir` given is the caller's to remove.
 */
export async function startTestApp(env: Record<string, string | undefined> = {}, dataDir?: string, log?: Logger): Promise<TestApp> {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    VMPULSE_ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Every test client is 127.0.0.1: the per-address limit on failed authentications would turn a
    // suite's deliberate 401s into 429s. The tests of that limit set it themselves.
    HTTP_AUTH_FAILURE_LIMIT: '100000',
    ...env,
  });
  const app = await buildApp(config, log ?? createLogger(config.LOG_LEVEL));
  const { url } = await app.start();
  const clients: Client[] = [];
  const auth = (token: string | null | undefined): Record<string, string> => {
    const t = token === undefined ? ADMIN : token;
    return t === null ? {} : { authorization: `Bearer ${t}` };
  };
  return {
    app,
    url,
    dataDir: dir,
    api: (pathname, init = {}) => fetch(url + pathname, { ...init, headers: { ...auth(init.token), ...(init.headers as Record<string, string>) } }),
    async gql(query, variables, token) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(token) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: await res.json() };
    },
    ws(token) {
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: auth(token),
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      if (!dataDir || ownDirs.delete(dataDir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects a subscription's messages; `next(pred)` waits for the first one that matches. */
export function collect<T = any>(client: Client, query: string, variables?: Record<string, unknown>) {
  const seen: T[] = [];
  const waiters: { pred: (v: T) => boolean; resolve: (v: T) => void }[] = [];
  let failure: unknown;
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (msg) => {
        if (msg.errors) failure = msg.errors;
        const v = msg.data as T;
        seen.push(v);
        for (const w of [...waiters]) {
          if (!w.pred(v)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(v);
        }
      },
      error: (e) => (failure = e),
      complete: () => {},
    },
  );
  return {
    seen,
    get failure() {
      return failure;
    },
    dispose,
    next(pred: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(seen).slice(0, 800)}; failure ${JSON.stringify(failure)}`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (v) => {
            clearTimeout(t);
            resolve(v);
          },
        });
      });
    },
  };
}
