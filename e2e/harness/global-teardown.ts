import { rmSync } from 'node:fs';
import { readServerState, stopServer } from './server';

export default async function globalTeardown() {
  const state = readServerState();
  await stopServer(state);
  if (!process.env.VMPULSE_E2E_KEEP) rmSync(state.dataDir, { recursive: true, force: true });
}
