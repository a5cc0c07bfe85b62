/** Lets timers, sockets and requests run between chunks of a long loop (a 1,000-VM tick would otherwise hold the event loop for ~150 ms). */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export const CHUNK = 100;
