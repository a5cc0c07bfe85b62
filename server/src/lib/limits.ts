// Counts of requests refused by each limit (body size, rate, depth, sockets, …), shown in
// /api/telemetry/status so operators see who hits what. One instance per app.

export interface LimitCounters {
  /** one refusal by the named limit, e.g. `http.body_size`, `graphql.depth`, `ws.sockets_per_token` */
  hit(limit: string): void;
  /** every limit hit so far, by name */
  snapshot(): Record<string, number>;
}

export function createLimitCounters(): LimitCounters {
  const counts = new Map<string, number>();
  return {
    hit(limit) {
      counts.set(limit, (counts.get(limit) ?? 0) + 1);
    },
    snapshot() {
      return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
    },
  };
}
