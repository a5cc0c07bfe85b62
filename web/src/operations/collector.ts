import { graphql } from '../gql';

// A fragment the operations below spread (by name): codegen compiles it into them.
graphql(`
  fragment CollectorStatusFields on CollectorStatus {
    running
    intervalSec
    startedAt
    ticks
    samples
    errors
    lastTickMs
    store {
      backend
      written
      bufferDepth
      dropped
      failedWrites
      lastError
      lastWriteMs
    }
    hosts {
      hostId
      name
      uri
      demo
      connected
      ticks
      samples
      errors
      staleVms
      lastTickAt
      lastTickMs
      lastTickCpuMs
      lastError
      owner
      ownedHere
      leaseAgeSec
    }
  }
`);

export const CollectorStatusSubscription = graphql(`
  subscription CollectorStatusLive {
    collectorStatus {
      ...CollectorStatusFields
    }
  }
`);

export const StartCollectorMutation = graphql(`
  mutation StartCollector {
    startCollector {
      ...CollectorStatusFields
    }
  }
`);

export const StopCollectorMutation = graphql(`
  mutation StopCollector {
    stopCollector {
      ...CollectorStatusFields
    }
  }
`);

export const ConfigQuery = graphql(`
  query SafeConfig {
    config
  }
`);
