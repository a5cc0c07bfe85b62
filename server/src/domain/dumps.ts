// Memory dumps: the words every part uses (seed 003 and issue 8).

/** A dump's life: queued → running → one of the ends; a completed dump becomes `deleted` by retention. */
export const DUMP_STATUSES = ['queued', 'running', 'completed', 'failed', 'timeout', 'cancelled', 'interrupted', 'deleted'] as const;
export type DumpStatus = (typeof DUMP_STATUSES)[number];

export const ACTIVE_DUMP_STATUSES: readonly DumpStatus[] = ['queued', 'running'];

/** What a running dump is doing: waiting for a slot, reading the dump, writing the file and the record, over. */
export const DUMP_PHASES = ['queued', 'dumping', 'finishing', 'done'] as const;
export type DumpPhase = (typeof DUMP_PHASES)[number];

/** Memory-only formats vmpulse asks libvirt for (records say `test-driver` for the test driver's 15-byte placeholder). */
export const DUMP_FORMATS = ['elf', 'kdump-zlib'] as const;
export type DumpFormat = (typeof DUMP_FORMATS)[number];

/** Seed 003 `/status`: the last trigger as a whole. */
export const TRIGGER_STATUSES = ['idle', 'in_progress', 'completed', 'failed', 'timeout', 'error'] as const;
export type TriggerStatus = (typeof TRIGGER_STATUSES)[number];

/** Live progress of one dump. Bytes are exact up to 2^53 (9 PB): plain numbers. */
export interface DumpProgress {
  phase: DumpPhase;
  /** 0–100; null while unknown */
  percent: number | null;
  /** raw dump bytes read so far */
  rawBytes: number;
  /** gzip bytes written so far */
  gzipBytes: number;
  /** raw MB (10^6 bytes) per second since the dump started */
  mbPerSec: number | null;
  /** seconds left, estimated; null while unknown */
  etaSec: number | null;
  /** raw bytes / gzip bytes */
  compressionRatio: number | null;
}
