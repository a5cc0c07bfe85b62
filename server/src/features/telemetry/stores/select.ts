// PostgreSQL by default; InfluxDB 3 when INFLUX_URL is set.
import type { Config } from '../../../config.js';
import type { Database } from '../../../lib/db.js';
import type { Logger } from '../../../lib/logger.js';
import { createInfluxStore } from './influxdb3.js';
import { createPostgresStore } from './postgres.js';
import type { MetricStore } from './store.js';

export function createMetricStore(config: Config, db: Database, log: Logger): MetricStore {
  if (config.INFLUX_URL) {
    return createInfluxStore({
      url: config.INFLUX_URL,
      database: config.INFLUX_DB,
      token: config.INFLUX_TOKEN,
      batchMaxLines: config.BATCH_MAX_LINES,
      batchMaxSec: config.BATCH_MAX_SEC,
      log,
    });
  }
  return createPostgresStore({
    db,
    log,
    retention: { rawHours: config.RETENTION_RAW_HOURS, minuteDays: config.RETENTION_1M_DAYS, hourDays: config.RETENTION_1H_DAYS },
  });
}
