// A fixed-size window of the latest points for a live chart. Every change hands out a new array
// (recharts redraws on identity), and the window never grows past `size`.
import { useCallback, useReducer } from 'react';

export interface TimedPoint {
  /** ms since the epoch */
  t: number;
}

/** Appends `point` unless it is not newer than the last one; keeps the last `size` points. */
/** @internal exported for tests only: its unit test drives it */
export function appendToWindow<P extends TimedPoint>(window: readonly P[], point: P, size: number): P[] {
  const last = window[window.length - 1];
  if (last && point.t <= last.t) return window as P[];
  const start = Math.max(0, window.length + 1 - size);
  const next = window.slice(start);
  next.push(point);
  return next;
}

type Action<P> = { type: 'push'; point: P; size: number } | { type: 'reset' };

function reducer<P extends TimedPoint>(window: P[], action: Action<P>): P[] {
  if (action.type === 'reset') return window.length ? [] : window;
  return appendToWindow(window, action.point, action.size);
}

export function useFixedWindow<P extends TimedPoint>(size: number) {
  const [points, dispatch] = useReducer(reducer<P>, [] as P[]);
  const push = useCallback((point: P) => dispatch({ type: 'push', point, size }), [size]);
  const reset = useCallback(() => dispatch({ type: 'reset' }), []);
  return { points, push, reset };
}
