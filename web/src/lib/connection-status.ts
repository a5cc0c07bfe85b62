// The WebSocket's state, kept outside React so the graphql-ws callbacks can set it and any component can read it.
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'forbidden';

let state: ConnectionState = 'connecting';
const listeners = new Set<() => void>();

export function setConnection(next: ConnectionState): void {
  if (next === state) return;
  state = next;
  for (const l of listeners) l();
}

export function getConnection(): ConnectionState {
  return state;
}

export function subscribeConnection(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
