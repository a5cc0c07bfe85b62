// GET /metrics: the Prometheus scrape target. Viewer role (Prometheus' `authorization` setting
// sends the token); errors in plain text, as Prometheus' own handlers answer them.
import { z } from 'zod';
import { defineRoute, TextAnswer, textErrors, type RouteFamily } from '../../lib/rest.js';
import { CONTENT_TYPES, negotiate } from './exposition.js';
import type { PrometheusService } from './service.js';

export function prometheusRoutes({ prometheus }: { prometheus: PrometheusService }): RouteFamily {
  return {
    prefix: '/metrics',
    tag: 'prometheus',
    description: 'The Prometheus scrape target: the libvirt exporter\'s VM metrics (kumina 0.2.0 names, labels and units) and vmpulse\'s own',
    errors: textErrors,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/metrics',
        role: 'viewer',
        summary: 'Every VM\'s latest sample and vmpulse\'s own metrics, for Prometheus',
        description:
          'The Prometheus text format 0.0.4, or OpenMetrics 1.0.0 when `Accept` asks for `application/openmetrics-text` (negotiated as Prometheus\' client_golang does). ' +
          'Answered from the latest samples in memory: no libvirt call per scrape. VM series follow Debian\'s prometheus-libvirt-exporter (kumina 0.2.0): ' +
          '`libvirt_domain_info_*`, `libvirt_domain_block_stats_*`, `libvirt_domain_interface_stats_*`, `libvirt_domain_state_code`, `libvirt_domains_number`, `libvirt_up`. ' +
          'Only active VMs have series; a VM whose latest sample is stale has none. A token scoped to an owner sees only its VMs\' series. ' +
          'vmpulse\'s own metrics (`vmpulse_*`, prom-client\'s `process_*` and `nodejs_*`) are for unscoped tokens.',
        schema: {
          response: z.string().describe('the exposition, one sample per line'),
          produces: [CONTENT_TYPES.text.split(';')[0]!, CONTENT_TYPES.openmetrics.split(';')[0]!],
        },
        async handle({ headers, principal }) {
          const format = negotiate(headers.accept);
          return new TextAnswer(CONTENT_TYPES[format], await prometheus.scrape(principal, format));
        },
      }),
    ],
  };
}
