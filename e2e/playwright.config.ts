import { defineConfig } from '@playwright/test';
import path from 'node:path';
import { RESULTS_DIR } from './harness/paths';

// One real server for the run (global setup), one worker: specs share it and one of them restarts it.
export default defineConfig({
  testDir: './specs',
  globalSetup: './harness/global-setup.ts',
  globalTeardown: './harness/global-teardown.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  outputDir: path.join(RESULTS_DIR, 'e2e-artifacts'),
  reporter: [['list'], ['json', { outputFile: path.join(RESULTS_DIR, 'e2e.json') }]],
  use: {
    viewport: { width: 1360, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Debian's Chromium; never `playwright install` (it downloads a browser).
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
});
