import { graphql } from '../gql';

// A fragment the operations below spread (by name): codegen compiles it into them.
graphql(`
  fragment DumpJobFields on DumpJob {
    id
    vmId
    vmName
    host
    status
    format
    simulated
    triggeredBy
    createdAt
    startedAt
    finishedAt
    durationSec
    rawBytes
    gzipBytes
    sha256
    gzipSha256
    path
    downloadUrl
    error
    progress {
      phase
      percent
      rawBytes
      gzipBytes
      mbPerSec
      etaSeconds
      compressionRatio
    }
  }
`);

export const DumpRecordsQuery = graphql(`
  query DumpRecords($first: Int!, $after: String) {
    dumps(first: $first, after: $after) {
      totalCount
      pageInfo {
        endCursor
        hasNextPage
      }
      nodes {
        ...DumpJobFields
      }
    }
  }
`);

export const DumpStatsQuery = graphql(`
  query DumpStats {
    dumpStats {
      totalDumps
      totalVms
      totalSizeBytes
      avgDurationSec
      lastDump
    }
  }
`);

export const VmDumpsQuery = graphql(`
  query VmDumps($id: ID!) {
    vm(id: $id) {
      id
      dumps(first: 20) {
        ...DumpJobFields
      }
    }
  }
`);

/** Without id: the dumps queued or running now, then every change of any dump. */
export const DumpJobUpdatedSubscription = graphql(`
  subscription DumpJobUpdated {
    dumpJobUpdated {
      ...DumpJobFields
    }
  }
`);

export const TriggerDumpsMutation = graphql(`
  mutation TriggerDumps($vmIds: [String!]!, $format: DumpFormat) {
    triggerDumps(vmIds: $vmIds, format: $format) {
      id
      message
      refused {
        vmRef
        reason
      }
      dumps {
        ...DumpJobFields
      }
    }
  }
`);

export const CancelDumpMutation = graphql(`
  mutation CancelDump($id: ID!) {
    cancelDump(id: $id) {
      ...DumpJobFields
    }
  }
`);

export const VerifyDumpMutation = graphql(`
  mutation VerifyDump($id: ID!) {
    verifyDump(id: $id) {
      ok
      detail
      verifiedAt
      dump {
        ...DumpJobFields
      }
    }
  }
`);
