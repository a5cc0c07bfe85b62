// The compact per-tick fleet overview (`fleetMetrics`): one line per VM.

export interface FleetEntry {
  vmId: number;
  name: string;
  host: string;
  state: string;
  /** % of the VM's vCPUs */
  cpuPct: number | null;
  /** % of the VM's memory */
  memPct: number | null;
  /** bytes/s */
  netRxBps: number | null;
  netTxBps: number | null;
  diskReadBps: number | null;
  diskWriteBps: number | null;
  stale: boolean;
  /** ms since the epoch */
  ts: number;
  /** the owner's user and group (names, else ids); null when none is recorded */
  ownerUser: string | null;
  ownerGroup: string | null;
}

export interface FleetTick {
  ts: number;
  vms: FleetEntry[];
}

/** The order of the values in each row of the compact form (`columns` + `rows`). */
export const FLEET_COLUMNS = ['vmId', 'name', 'host', 'state', 'stale', 'cpuPct', 'memPct', 'netRxBps', 'netTxBps', 'diskReadBps', 'diskWriteBps', 'timestamp', 'ownerUser', 'ownerGroup'] as const;
