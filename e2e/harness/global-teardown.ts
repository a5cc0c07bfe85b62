import { readServerState, removeServer, stopServer } from './server';

export default async function globalTeardown() {
  const state = readServerState();
  if (process.env.VMPULSE_E2E_KEEP) await stopServer(state);
  else await removeServer(state);
}
