import { graphql } from '../gql';

export const VmListQuery = graphql(`
  query VmList {
    vms {
      id
      name
      state
      host {
        name
      }
    }
  }
`);

export const VmHeaderQuery = graphql(`
  query VmHeader($id: ID!) {
    vm(id: $id) {
      id
      name
      uuid
      state
      cpuCount
      memoryMax
      host {
        name
        demo
      }
      migrationContext {
        vmName
        currentStatus
      }
    }
  }
`);

export const VmHistoryQuery = graphql(`
  query VmHistory($id: ID!, $range: HistoryRange!) {
    vm(id: $id) {
      id
      history(input: { range: $range }) {
        from
        to
        stepSec
        points {
          timestamp
          values {
            field
            avg
          }
        }
      }
    }
  }
`);

export const VmMetricsSubscription = graphql(`
  subscription VmMetrics($vmId: ID!) {
    vmMetrics(vmId: $vmId) {
      vmId
      timestamp
      stale
      ageMs
      error
      state
      cpus
      cputime
      timeusr
      timesys
      cpuPct
      cpuUserPct
      cpuSystemPct
      memPct
      netRxBps
      netTxBps
      diskReadBps
      diskWriteBps
      memactual
      memrss
      memavailable
      memusable
      memswap_in
      memswap_out
      memmajor_fault
      memminor_fault
      memdisk_cache
      net_rxbytes
      net_rxpackets
      net_rxerrors
      net_rxdrops
      net_txbytes
      net_txpackets
      net_txerrors
      net_txdrops
      disk_rd_req
      disk_rd_bytes
      disk_wr_reqs
      disk_wr_bytes
      disk_errors
    }
  }
`);
