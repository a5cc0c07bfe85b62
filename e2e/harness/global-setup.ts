import { rmSync } from 'node:fs';
import { SERVER_LOG } from './paths';
import { startServer } from './server';

export default async function globalSetup() {
  rmSync(SERVER_LOG, { force: true });
  const state = await startServer();
  process.env.VMPULSE_E2E_URL = state.url;
  console.log(`e2e: vmpulse on ${state.url} (DATA_DIR ${state.dataDir}, log ${SERVER_LOG})`);
}
