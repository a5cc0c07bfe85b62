import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// @vmpulse/domain/<file> is the server's domain/ folder: the metric names and units, history fields
// and ranges, defined once for both (it imports nothing, so it bundles alone). tsconfig.json has the
// same alias for the type checker.
const domainDir = fileURLToPath(new URL('../server/src/domain/', import.meta.url));

// The server serves dist/ itself; `vite` (dev) proxies the API to a server on :8000.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: [{ find: /^@vmpulse\/domain\/(.*)$/, replacement: `${domainDir}$1` }],
  },
  server: {
    proxy: { '/graphql': { target: 'http://localhost:8000', ws: true } },
  },
  build: {
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes('node_modules/recharts') || id.includes('node_modules/d3-') || id.includes('node_modules/victory')) return 'charts';
          return undefined;
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
