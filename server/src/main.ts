import { ConfigError, loadConfig, safeConfig, type Config } from './config.js';
import { createLogger } from './lib/logger.js';
import { buildApp } from './app.js';

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`vmpulse: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  log.info({ config: safeConfig(config) }, 'starting vmpulse');
  const app = await buildApp(config, log);
  await app.start();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await app.stop().catch((err) => log.error({ err }, 'stop failed'));
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error('vmpulse failed to start:', err instanceof Error ? err.stack : err);
  process.exit(1);
});
