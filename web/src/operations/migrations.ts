import { graphql } from '../gql';

// A fragment the operations below spread (by name): codegen compiles it into them.
graphql(`
  fragment ReplicationJobFields on ReplicationJob {
    id
    status
    replicationType
    source
    replayed
    currentPhase
    currentOperation
    progressPercent
    bytesTransferred
    totalBytes
    transferSpeedBps
    throughputMbps
    etaSeconds
    errorMessage
    createdAt
    updatedAt
    completedAt
    live {
      converging
      remainingBytes
      dirtyRateBps
      transferRateBps
      iteration
      expectedDowntimeMs
      stalledSince
    }
  }
`);

// A fragment the operations below spread (by name): codegen compiles it into them.
graphql(`
  fragment MigrationDiskFields on MigrationDisk {
    id
    diskId
    label
    capacityBytes
    bytesSynced
    syncProgressPercent
    syncStatus
  }
`);

// A fragment the operations below spread (by name): codegen compiles it into them.
graphql(`
  fragment ReplicationJobSteps on ReplicationJob {
    ...ReplicationJobFields
    steps {
      ordinal
      name
      state
      startedAt
      finishedAt
      disks {
        ...MigrationDiskFields
      }
    }
  }
`);

// A fragment the operations below spread (by name): codegen compiles it into them.
graphql(`
  fragment MigrationContextSummary on MigrationContext {
    contextId
    vmName
    currentStatus
    source
    sourceHost
    replayed
    totalJobsRun
    successfulJobs
    failedJobs
    lastJobAt
    updatedAt
    vm {
      id
    }
    currentJob {
      ...ReplicationJobFields
    }
  }
`);

/** Every context: the current state of each first, then each change (no polling). */
export const MigrationContextsLive = graphql(`
  subscription MigrationContextsLive {
    replicationJobUpdated {
      event
      context {
        ...MigrationContextSummary
      }
    }
  }
`);

/** One context with everything its page shows, re-sent whole on each change. */
export const MigrationContextLive = graphql(`
  subscription MigrationContextLive($vmName: String!) {
    replicationJobUpdated(vmName: $vmName) {
      event
      context {
        ...MigrationContextSummary
        osType
        powerState
        cpuCount
        memoryMb
        datacenter
        firstJobAt
        lastSuccessfulJobId
        currentJob {
          ...ReplicationJobSteps
        }
        disks {
          ...MigrationDiskFields
        }
        jobHistory {
          ...ReplicationJobSteps
        }
        cbtHistory {
          id
          jobId
          diskId
          changeId
          syncType
          blocksChanged
          bytesTransferred
          syncDurationSeconds
          syncSuccess
          createdAt
        }
      }
    }
  }
`);

/** Whether a context exists (the live subscription says nothing for an unknown name). */
export const MigrationContextExists = graphql(`
  query MigrationContextExists($vmName: String!) {
    migrationContext(vmName: $vmName) {
      contextId
    }
  }
`);

/** The list once at page load (an empty list sends no subscription message); changes come live. */
export const MigrationContextsQuery = graphql(`
  query MigrationContexts {
    migrationContexts {
      ...MigrationContextSummary
    }
  }
`);
