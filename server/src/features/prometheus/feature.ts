// Prometheus: GET /metrics, a drop-in for Debian's prometheus-libvirt-exporter (kumina 0.2.0) plus
// vmpulse's own metrics. Reads telemetry and inventory only through their services.
import { createThrottledLog } from '../../lib/log-throttle.js';
import type { Feature } from '../../lib/module.js';
import { prometheusRoutes } from './rest.js';
import { createPrometheusService, type PrometheusService } from './service.js';

declare module '../../lib/module.js' {
  interface Services {
    prometheus: PrometheusService;
  }
}

/** A VM's latest sample older than this many collector intervals (and at least 10 s) is not served. */
const STALE_INTERVALS = 3;
const MIN_STALE_MS = 10_000;

export const prometheus: Feature = {
  name: 'prometheus',
  create({ config, gauges, log, services }) {
    // A lost host fails every VM's read: a few lines a minute, the rest counted.
    const xmlError = createThrottledLog(log, 5);
    const staleAfterMs = Math.max(STALE_INTERVALS * config.POLL_INTERVAL * 1000, MIN_STALE_MS);
    const service = createPrometheusService({
      ...services,
      gauges,
      staleAfterMs,
      libvirtTimeoutMs: config.LIBVIRT_TIMEOUT * 1000,
      onError: (err) => log.error({ err }, 'following the collector status failed'),
      // Retried a minute later; meanwhile the VM's series carry the labels the stats give.
      onXmlError: (err, vm) => xmlError('prometheus.domain_xml', { vm, err: err instanceof Error ? err.message : String(err) }, 'reading the domain XML for device labels failed'),
    });
    return {
      services: { prometheus: service },
      rest: [prometheusRoutes({ prometheus: service })],
      start: () => service.start(),
      stop: () => service.stop(),
    };
  },
};
