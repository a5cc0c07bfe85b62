import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Suites share one libvirtd and one embedded PostgreSQL per file; run files one at a time.
    fileParallelism: false,
    pool: 'forks',
  },
});
