import { graphql } from '../gql';

export const FleetMetricsSubscription = graphql(`
  subscription FleetMetrics {
    fleetMetrics {
      timestamp
      vms {
        vmId
        name
        host
        state
        stale
        cpuPct
        memPct
        netRxBps
        netTxBps
        diskReadBps
        diskWriteBps
        timestamp
      }
    }
  }
`);
