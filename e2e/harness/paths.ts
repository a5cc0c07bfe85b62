import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(E2E_DIR, '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');
export const SCREENSHOT_DIR = path.join(RESULTS_DIR, 'screenshots');
/** Where the global setup leaves what tests need to reach the server (and to restart it). */
export const STATE_FILE = path.join(RESULTS_DIR, 'e2e-server.json');
export const SERVER_LOG = path.join(RESULTS_DIR, 'e2e-server.log');
export const SERVER_MAIN = path.join(REPO_ROOT, 'server', 'dist', 'src', 'main.js');
export const WEB_INDEX = path.join(REPO_ROOT, 'web', 'dist', 'index.html');
