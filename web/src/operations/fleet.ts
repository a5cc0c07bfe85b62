import { graphql } from '../gql';

export const FleetMetricsSubscription = graphql(`
  subscription FleetMetrics {
    fleetMetrics {
      timestamp
      columns
      rows
    }
  }
`);
