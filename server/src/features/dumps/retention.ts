// Dump retention: DUMP_RETENTION_COUNT files, DUMP_RETENTION_GB of them, DUMP_RETENTION_DAYS old
// (0 = no limit). The oldest go first; their records stay, marked `deleted`.
import { rm } from 'node:fs/promises';
import type { DumpRecords } from './records.js';

export interface RetentionLimits {
  count: number;
  gb: number;
  days: number;
}

/** Deletes what the limits exclude; returns the ids marked deleted. */
export async function applyRetention(records: DumpRecords, limits: RetentionLimits, now = Date.now()): Promise<number[]> {
  if (!limits.count && !limits.gb && !limits.days) return [];
  const kept = await records.kept(); // newest first
  const maxBytes = limits.gb * 1e9;
  const minTime = limits.days ? now - limits.days * 86_400_000 : 0;
  const drop: { id: number; path: string }[] = [];
  let bytes = 0;
  kept.forEach((d, i) => {
    bytes += Number(d.gzipBytes ?? 0n);
    const tooMany = limits.count > 0 && i >= limits.count;
    const tooBig = limits.gb > 0 && bytes > maxBytes;
    const tooOld = minTime > 0 && (d.finishedAt?.getTime() ?? now) < minTime;
    if (tooMany || tooBig || tooOld) drop.push(d);
  });
  for (const d of drop) await rm(d.path, { force: true });
  if (drop.length) await records.markDeleted(drop.map((d) => d.id));
  return drop.map((d) => d.id);
}
