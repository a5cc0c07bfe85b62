import { describe, expect, it } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { appendToWindow, useFixedWindow } from '../useFixedWindow';

const p = (t: number) => ({ t, v: t * 2 });

describe('appendToWindow', () => {
  it('keeps at most `size` points, newest last, as a new array', () => {
    let w: { t: number; v: number }[] = [];
    for (let t = 1; t <= 5; t++) {
      const next = appendToWindow(w, p(t), 3);
      expect(next).not.toBe(w);
      w = next;
    }
    expect(w.map((x) => x.t)).toEqual([3, 4, 5]);
  });
  it('ignores a point that is not newer (the subscription repeats the latest snapshot first)', () => {
    const w = [p(1), p(2)];
    expect(appendToWindow(w, p(2), 10)).toBe(w);
    expect(appendToWindow(w, p(1), 10)).toBe(w);
  });
});

describe('useFixedWindow', () => {
  it('hands out a new fixed-size array on every push and empties on reset', () => {
    const { result } = renderHook(() => useFixedWindow<{ t: number; v: number }>(300));
    const seen = new Set<unknown>([result.current.points]);
    act(() => {
      for (let t = 1; t <= 305; t++) result.current.push(p(t));
    });
    expect(result.current.points).toHaveLength(300);
    expect(result.current.points[0]!.t).toBe(6);
    expect(result.current.points[299]!.t).toBe(305);
    expect(seen.has(result.current.points)).toBe(false);

    const before = result.current.points;
    act(() => result.current.push(p(306)));
    expect(result.current.points).not.toBe(before);
    expect(result.current.points).toHaveLength(300);

    act(() => result.current.reset());
    expect(result.current.points).toEqual([]);
  });
  it('keeps push stable across renders (safe in effect deps)', () => {
    const { result, rerender } = renderHook(() => useFixedWindow<{ t: number }>(5));
    const push = result.current.push;
    rerender();
    expect(result.current.push).toBe(push);
  });
});
