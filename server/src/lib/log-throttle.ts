// Client-caused errors are logged as one line each, and at most `perMinute` of them a minute per
// kind, so a flood of bad requests cannot flood the log. The rest are counted and reported in the
// next line that gets through.
import type { Logger } from './logger.js';

export function createThrottledLog(log: Logger, perMinute = 20) {
  const windows = new Map<string, { start: number; logged: number; suppressed: number }>();
  return function clientError(kind: string, detail: Record<string, unknown>, message: string, level: 'info' | 'error' = 'info') {
    const now = Date.now();
    let w = windows.get(kind);
    if (!w || now - w.start >= 60_000) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, logged: 0, suppressed: 0 };
      windows.set(kind, w);
      if (suppressed) log.warn({ kind, suppressed }, 'client errors not logged in the last minute');
    }
    if (w.logged >= perMinute) {
      w.suppressed++;
      return;
    }
    w.logged++;
    log[level]({ kind, ...detail }, message);
  };
}

export type ClientErrorLog = ReturnType<typeof createThrottledLog>;
