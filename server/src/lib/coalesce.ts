// Messages that list everything (every VM of the fleet, every host of the collector) are sent once
// per burst of changes, not once per change: hosts tick staggered over the interval, and one
// message per host tick would cost hosts × entries a second.

/**
 * `request()` asks for `send()` to run soon: requests within `minDelayMs` share one run, and runs
 * are at least `gapMs` apart. `cancel()` drops a pending run. `send()` runs on a timer, where a
 * throw would end the process: it goes to `onError` instead, and later requests run as before.
 */
export function coalesce(send: () => void, onError: (err: unknown) => void, gapMs: number, minDelayMs = 20) {
  let timer: NodeJS.Timeout | undefined;
  let lastAt = Number.NEGATIVE_INFINITY;
  const run = () => {
    timer = undefined;
    lastAt = Date.now();
    try {
      send();
    } catch (err) {
      onError(err);
    }
  };
  return {
    request() {
      timer ??= setTimeout(run, Math.max(minDelayMs, lastAt + gapMs - Date.now()));
      timer.unref?.();
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
