// Each finished dump as one row of InfluxDB 3's `mem_dumps` table (seed 003's field names), when
// INFLUX_URL is set. Best effort: PostgreSQL keeps the record either way; a failed write is logged.
import type { Logger } from '../../lib/logger.js';
import type { DumpRow } from './records.js';

const escTag = (v: string) => v.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, ' ');
const quote = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, ' ')}"`;

/** The line protocol of one dump record, timestamp in ms. */
function memDumpLine(d: DumpRow): string {
  const tags = `mem_dumps,host=${escTag(d.hostName || 'unknown')},dom=${escTag(d.vmName)},vmid=${d.vmId}`;
  const fields = [
    `sha256=${quote(d.sha256 ?? '')}`,
    `duration_sec=${d.durationSec ?? 0}`,
    `gzip_size_bytes=${d.gzipBytes ?? 0n}i`,
    `raw_size_bytes=${d.rawBytes ?? 0n}i`,
    `ctime=${d.fileCtime ?? 0}i`,
    `mtime=${d.fileMtime ?? 0}i`,
    `atime=${d.fileAtime ?? 0}i`,
    `dump_path=${quote(d.path)}`,
    `format=${quote(d.format)}`,
    `domain_uuid=${quote(d.domainUuid)}`,
    `triggered_by=${quote(d.triggeredBy)}`,
  ];
  return `${tags} ${fields.join(',')} ${(d.finishedAt ?? new Date()).getTime()}`;
}

export function createMemDumpWriter(opts: { url?: string; database: string; token?: string; log: Logger }) {
  return async (d: DumpRow): Promise<void> => {
    if (!opts.url) return;
    try {
      const res = await fetch(`${opts.url.replace(/\/$/, '')}/api/v3/write_lp?db=${encodeURIComponent(opts.database)}&precision=millisecond`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
        body: `${memDumpLine(d)}\n`,
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) opts.log.warn({ status: res.status, body: (await res.text()).slice(0, 300) }, 'mem_dumps write refused by InfluxDB');
    } catch (err) {
      opts.log.warn({ err: String(err) }, 'mem_dumps write to InfluxDB failed');
    }
  };
}
