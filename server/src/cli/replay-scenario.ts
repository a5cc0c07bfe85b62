// A realistic replication, driven through vmpulse's public ingest API (REST, as a replicator
// would): a context with two disks, an initial full sync, incremental CBT syncs, one failure and
// its retry, and a cutover. Everything it creates is marked replayed. `speed` compresses time:
// each progress report stands for one second of transfer and is sent every 1/speed s.

export interface ReplayOptions {
  url: string;
  token: string;
  speed: number;
  vmName: string;
  /** simulated transfer rate, bytes per (simulated) second */
  rate?: number;
  log?: (line: string) => void;
}

/** One report the replay made, in the order it made it. */
export interface ReplayStep {
  kind: 'context' | 'start' | 'progress' | 'cbt' | 'complete' | 'fail';
  jobId: string | null;
  bytes?: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export async function runReplay(o: ReplayOptions): Promise<ReplayStep[]> {
  const log = o.log ?? (() => {});
  const rate = o.rate ?? 256 * MiB;
  const tickMs = 1000 / o.speed;
  const steps: ReplayStep[] = [];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Real transfers wobble: ±20 % around the rate, the same wobble every run.
  let seed = 42;
  const wobble = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return 0.8 + 0.4 * (seed / 2 ** 31);
  };

  async function post(path: string, body: object, kind: ReplayStep['kind'], jobId: string | null, bytes?: number) {
    const res = await fetch(`${o.url}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /api/v1${path}: ${res.status} ${text}`);
    steps.push({ kind, jobId, ...(bytes === undefined ? {} : { bytes }) });
    return JSON.parse(text) as Record<string, unknown>;
  }

  const vm = o.vmName;
  const disks = [
    { disk_id: 'disk-2000', label: 'Hard disk 1', unit_number: 0, capacity_bytes: 8 * GiB, vmdk_path: `[vsanDatastore] ${vm}/${vm}.vmdk`, datastore: 'vsanDatastore', provisioning_type: 'thin', ossea_volume_id: 160, network_config: '[{"label":"Network adapter 1","adapter_type":"vmxnet3"}]' },
    { disk_id: 'disk-2001', label: 'Hard disk 2', unit_number: 1, capacity_bytes: 4 * GiB, vmdk_path: `[vsanDatastore] ${vm}/${vm}_1.vmdk`, datastore: 'vsanDatastore', provisioning_type: 'thick', ossea_volume_id: 161 },
  ];
  const stamp = Date.now().toString(36);
  let jobNo = 0;
  let changeId = '';

  /** One job: start, per-second progress over `perDisk` bytes of each disk, CBT per disk, then complete (or fail at `failAt`). */
  async function job(type: 'initial' | 'incremental', perDisk: number[], opts: { failAt?: number; cutover?: boolean } = {}) {
    const id = `replay-${vm}-${stamp}-${++jobNo}`;
    const total = perDisk.reduce((a, b) => a + b, 0);
    const stepNames = opts.cutover ? ['Initialize', 'CBT sync', 'Disk transfer', 'Cutover', 'Finalize'] : undefined;
    await post(
      '/replication-jobs',
      { vm_name: vm, job_id: id, replication_type: type, total_bytes: total, nbd_export_name: `migration-vol-${id}`, previous_change_id: changeId, replayed: true, disks, ...(stepNames ? { steps: stepNames } : {}) },
      'start',
      id,
    );
    log(`${id}: ${type}${opts.cutover ? ' (cutover)' : ''}, ${(total / GiB).toFixed(2)} GiB`);
    const synced = perDisk.map(() => 0);
    let sent = 0;
    let d = 0;
    while (sent < total) {
      await sleep(tickMs);
      let chunk = Math.round(rate * wobble());
      while (chunk > 0 && d < perDisk.length) {
        const take = Math.min(chunk, perDisk[d]! - synced[d]!);
        synced[d] = synced[d]! + take;
        sent += take;
        chunk -= take;
        if (synced[d] === perDisk[d]) d++;
      }
      if (opts.failAt !== undefined && sent >= total * opts.failAt) {
        await post('/replication-jobs/fail', { job_id: id, error_message: 'NBD connection reset by peer (replayed failure)' }, 'fail', id);
        log(`${id}: failed at ${Math.round((sent / total) * 100)} %`);
        return id;
      }
      await post(
        '/replication-jobs/progress',
        {
          job_id: id,
          bytes_transferred: sent,
          current_operation: 'Transferring Data',
          phase: 'Disk transfer',
          disks: perDisk.map((_, i) => ({ disk_id: disks[i]!.disk_id, bytes_synced: Math.min(disks[i]!.capacity_bytes, synced[i]!) })),
        },
        'progress',
        id,
        sent,
      );
    }
    const newChange = `52 ${stamp} ${jobNo}/${Math.round(Math.random() * 1e6)}`;
    for (let i = 0; i < disks.length; i++) {
      await post(
        '/replication-jobs/cbt',
        {
          job_id: id,
          disk_id: disks[i]!.disk_id,
          change_id: newChange,
          previous_change_id: changeId,
          sync_type: type,
          blocks_changed: Math.ceil(perDisk[i]! / (64 * 1024)),
          bytes_transferred: perDisk[i]!,
          sync_duration_seconds: Math.max(1, Math.round(perDisk[i]! / rate)),
          sync_success: true,
        },
        'cbt',
        id,
      );
    }
    if (opts.cutover) {
      await post('/replication-jobs/progress', { job_id: id, bytes_transferred: total, current_operation: 'Cutover', phase: 'Cutover' }, 'progress', id, total);
      await sleep(tickMs * 3);
    }
    await post('/replication-jobs/complete', { job_id: id, change_id: newChange, ...(opts.cutover ? { cutover: true } : {}) }, 'complete', id);
    changeId = newChange;
    log(`${id}: completed`);
    return id;
  }

  await post('/vm-contexts', { vm_name: vm, vmware_vm_id: crypto.randomUUID(), vm_path: `/ReplayDC/vm/${vm}`, vcenter_host: 'vcenter.replay.local', datacenter: 'ReplayDC', cpu_count: 4, memory_mb: 8192, os_type: 'linux', power_state: 'poweredOn', vm_tools_version: '12.1.5', replayed: true }, 'context', null);
  await job('initial', disks.map((x) => x.capacity_bytes)); // full sync of both disks
  await job('incremental', [600 * MiB, 150 * MiB]);
  await job('incremental', [900 * MiB, 300 * MiB], { failAt: 0.5 });
  await job('incremental', [900 * MiB, 300 * MiB]); // the retry
  await job('incremental', [120 * MiB, 40 * MiB], { cutover: true });
  return steps;
}
