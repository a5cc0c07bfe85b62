import { describe, expect, it } from 'vitest';
import { coalesce } from '../coalesce.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('coalesce', () => {
  it('requests close together share one run', async () => {
    let runs = 0;
    const c = coalesce(() => runs++, () => {}, 0, 10);
    for (let i = 0; i < 5; i++) c.request();
    await sleep(40);
    expect(runs).toBe(1);
  });

  it('a send that throws goes to onError on its timer (the process lives on), and the next request runs again', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const c = coalesce(
      () => {
        runs++;
        if (runs === 1) throw new Error('status could not be built');
      },
      (err) => errors.push(err),
      0,
      5,
    );
    c.request();
    await sleep(30);
    expect(errors.map((e) => (e as Error).message)).toEqual(['status could not be built']);
    c.request();
    await sleep(30);
    expect(runs).toBe(2);
    expect(errors).toHaveLength(1);
  });
});
