/** Lets timers, sockets and requests run between chunks of a long loop (a 1,000-VM tick would otherwise hold the event loop for ~150 ms). */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export const CHUNK = 100;

/** Runs `each` over 0 … n − 1, yielding to the event loop whenever the work it reports (1 a step, or more) reaches CHUNK. */
export async function paced(n: number, each: (i: number) => number): Promise<void> {
  let work = 0;
  for (let i = 0; i < n; i++) {
    if (work >= CHUNK) {
      await yieldToEventLoop();
      work = 0;
    }
    work += each(i);
  }
}
