// Fixtures for specs: the running server, a signed-in page, a network log, screenshots.
// Later pages (memory dumps, migrations) import { test, expect } from here.
import { test as base, expect, type Page, type Request } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SCREENSHOT_DIR } from './paths';
import { readServerState, restartServer, type ServerState } from './server';

export interface ServerHandle extends ServerState {
  /** stop and start the server on the same port and DATA_DIR; resolves when it is ready again */
  restart(opts?: { downMs?: number }): Promise<ServerState>;
  /** one GraphQL request over HTTP as the admin (for arranging state, not for assertions about the UI) */
  graphql<T = unknown>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data?: T; errors?: { message: string }[] }>;
}

export interface NetworkEntry {
  at: number;
  method: string;
  url: string;
  resourceType: string;
  body: string | null;
}

export interface NetworkLog {
  entries: NetworkEntry[];
  /** GraphQL requests over HTTP (not the WebSocket) made at or after `since` */
  graphqlHttp(since?: number): NetworkEntry[];
  websockets: string[];
}

export const TOKEN_KEY = 'vmpulse.token';

export const test = base.extend<{ server: ServerHandle; signedInPage: Page; network: NetworkLog; shot: (page: Page, name: string) => Promise<string> }>({
  server: async ({}, use) => {
    const state = readServerState();
    const handle: ServerHandle = {
      ...state,
      restart: (opts) => restartServer(opts),
      async graphql(query, variables, token) {
        const res = await fetch(`${state.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? state.adminToken}` },
          body: JSON.stringify({ query, variables }),
        });
        return (await res.json()) as never;
      },
    };
    await use(handle);
  },

  network: async ({ page }, use) => {
    const entries: NetworkEntry[] = [];
    const websockets: string[] = [];
    page.on('request', (r: Request) => entries.push({ at: Date.now(), method: r.method(), url: r.url(), resourceType: r.resourceType(), body: r.postData() }));
    page.on('websocket', (ws) => websockets.push(ws.url()));
    await use({
      entries,
      websockets,
      graphqlHttp: (since = 0) => entries.filter((e) => e.at >= since && new URL(e.url).pathname === '/graphql' && e.resourceType !== 'websocket'),
    });
  },

  /** A page on the server's origin, signed in as admin (the token is in sessionStorage before any script runs). */
  signedInPage: async ({ page, server }, use) => {
    await page.addInitScript(
      ([key, token]) => {
        if (!sessionStorage.getItem(key!)) sessionStorage.setItem(key!, token!);
      },
      [TOKEN_KEY, server.adminToken],
    );
    await use(page);
  },

  shot: async ({}, use) => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await use(async (page, name) => {
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    });
  },

  baseURL: async ({}, use) => {
    await use(readServerState().url);
  },
});

export { expect };
