// Live counts that one part keeps and another reports: the HTTP edge registers how many graphql-ws
// sockets, subscriptions and SSE streams are open; the Prometheus feature reads them at scrape time.
// A reading is a function, so nothing is counted twice and nothing goes stale.

interface LiveGauge {
  /** snake_case, e.g. `graphql_ws_sockets` */
  name: string;
  help: string;
  read(): number;
}

export interface LiveGauges {
  register(gauge: LiveGauge): void;
  list(): readonly LiveGauge[];
}

export function createLiveGauges(): LiveGauges {
  const gauges = new Map<string, LiveGauge>();
  return {
    register(gauge) {
      gauges.set(gauge.name, gauge);
    },
    list: () => [...gauges.values()],
  };
}
