import { Repeater } from 'graphql-yoga';

/** The current value first, then the stream: what every subscription sends. Ends cleanly when the client leaves. */
export function snapshotThen<T>(first: T[], stream: AsyncIterable<T>): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    for (const v of first) await push(v);
    const it = stream[Symbol.asyncIterator]();
    void stop.then(() => it.return?.());
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      await push(r.value);
    }
    stop();
  });
}
