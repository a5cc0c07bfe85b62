// Seed 000_2cf0550f8e86cc6d.txt (and 001): /api/telemetry/*. Errors: {"detail": "…"}.
import type { RouteFamily } from './router.js';

export const telemetryRoutes: RouteFamily = {
  prefix: '/api/telemetry',
  errorBody: (detail) => ({ detail }),
  routes: [
    {
      method: 'GET',
      path: '/api/telemetry/live-vms',
      role: 'viewer',
      handle: (_req, { vms }) => {
        const running = vms.list({ state: 'running' }).sort((a, b) => a.id - b.id);
        return {
          count: running.length,
          source: 'libvirt',
          vms: running.map((v) => ({
            id: v.id,
            name: v.name,
            uuid: v.uuid,
            state: v.state,
            cpu_count: v.cpuCount,
            memory_max: v.memoryMax, // KB
            memory_used: v.memoryUsed, // KB
            cputime: v.cputime, // ns
          })),
        };
      },
    },
  ],
};
