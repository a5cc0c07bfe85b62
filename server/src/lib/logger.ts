import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'vmpulse' },
    // Tokens and passwords never reach the log, whatever object is logged.
    redact: { paths: ['*.authorization', '*.token', '*.password', 'req.headers.authorization'], censor: '***' },
  });
}
