// The dump records in PostgreSQL: every read and write of MemoryDump, DumpTrigger and
// DumpCustodyEvent goes through here.
import type { PrismaClient } from '../../lib/db.js';
import type { DumpStatus } from '../../domain/dumps.js';
import type { MemoryDump, DumpTrigger, DumpCustodyEvent } from '../../generated/prisma/client.js';

export type DumpRow = MemoryDump;
export type TriggerRow = DumpTrigger;
export type CustodyRow = DumpCustodyEvent;

export interface DumpListFilter {
  vmIds?: number[];
  status?: DumpStatus;
  host?: string;
  /** ids below this one (keyset paging, newest first) */
  beforeId?: number;
}

/** rendered record texts kept (~330 bytes each): ten pages of the largest size */
const MAX_RECORD_TEXTS = 10_000;

export function createDumpRecords(prisma: PrismaClient) {
  const recordTexts = new Map<number, string>();

  /**
   * Seed 003 record texts, written by PostgreSQL byte for byte as JSON.stringify would write them
   * (decoding rows value by value and encoding them again cost more than the rest of the request).
   * Strings go through to_json (the same escapes as JSON.stringify); numbers are PostgreSQL's
   * shortest round-trip text (durations have ms precision: never an exponent).
   */
  const renderRecords = (ids: number[]) => prisma.$queryRaw<{ id: number; json: string }[]>`
    SELECT d."id",
           '{"timestamp":"' || to_char(coalesce(d."finishedAt", d."createdAt"), 'YYYY-MM-DD"T"HH24:MI:SS.US')
           || '","dom":' || to_json(d."vmName")::text
           || ',"vmid":"' || d."vmId"::text
           || '","sha256":' || to_json(coalesce(d."sha256", ''))::text
           || ',"duration_sec":' || coalesce(d."durationSec", 0)::text
           || ',"gzip_size_bytes":' || coalesce(d."gzipBytes", 0)::text
           || ',"ctime":' || coalesce(d."fileCtime", 0)::text
           || ',"mtime":' || coalesce(d."fileMtime", 0)::text
           || ',"atime":' || coalesce(d."fileAtime", 0)::text
           || ',"dump_path":' || to_json(d."path")::text || '}' AS json
    FROM "MemoryDump" d WHERE d."id" = ANY(${ids}::int[])`;
  const whereOf = (f: DumpListFilter) => ({
    ...(f.vmIds ? { vmId: { in: f.vmIds } } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.host ? { hostName: f.host } : {}),
  });

  return {
    async createTrigger(vmIds: string[], triggeredBy: string, refused: string[]): Promise<TriggerRow> {
      return prisma.dumpTrigger.create({ data: { vmIds, triggeredBy, refused } });
    },

    /** Inserts a queued dump; null when the VM already has one queued or running (the partial unique index). */
    async createQueued(data: Omit<DumpRow, 'id' | 'createdAt' | 'status' | 'error' | 'jobId' | 'replica' | 'sha256' | 'gzipSha256' | 'rawBytes' | 'gzipBytes' | 'startedAt' | 'finishedAt' | 'durationSec' | 'fileCtime' | 'fileMtime' | 'fileAtime' | 'deletedAt'>): Promise<DumpRow | null> {
      try {
        return await prisma.memoryDump.create({ data: { ...data, status: 'queued' } });
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') return null;
        throw err;
      }
    },

    setJobId: (id: number, jobId: string) => prisma.memoryDump.update({ where: { id }, data: { jobId } }),

    get: (id: number) => prisma.memoryDump.findUnique({ where: { id } }),

    pathTaken: async (path: string) => (await prisma.memoryDump.count({ where: { path } })) > 0,

    /** A worker of this replica fetched the queued dump (it may wait for a free slot): the dump is this replica's from now on. */
    claim: (id: number, replica: string) => prisma.memoryDump.updateMany({ where: { id, status: 'queued' }, data: { replica } }),

    /** queued → running on this replica; false when it is no longer queued (cancelled, interrupted). */
    async markRunning(id: number, startedAt: Date, replica: string): Promise<boolean> {
      const r = await prisma.memoryDump.updateMany({ where: { id, status: 'queued' }, data: { status: 'running', startedAt, replica } });
      return r.count === 1;
    },

    /** The queued dump's job moves from `fromJobId` to `toJobId`; false when it is no longer queued under that job. */
    async moveJob(id: number, fromJobId: string, toJobId: string): Promise<boolean> {
      const r = await prisma.memoryDump.updateMany({ where: { id, status: 'queued', jobId: fromJobId }, data: { jobId: toJobId } });
      return r.count === 1;
    },

    /** queued (under this job) → ended with `status` and `error`; null when it was no longer queued under that job. */
    async endQueued(id: number, jobId: string, status: DumpStatus, error: string): Promise<DumpRow | null> {
      const r = await prisma.memoryDump.updateMany({ where: { id, status: 'queued', jobId }, data: { status, error, finishedAt: new Date() } });
      return r.count === 1 ? prisma.memoryDump.findUnique({ where: { id } }) : null;
    },

    finish: (id: number, data: Partial<DumpRow> & { status: DumpStatus }) => prisma.memoryDump.update({ where: { id }, data }),

    /** queued → cancelled; false when it already started or ended. */
    async cancelQueued(id: number): Promise<boolean> {
      const r = await prisma.memoryDump.updateMany({ where: { id, status: 'queued' }, data: { status: 'cancelled', error: 'cancelled before it started', finishedAt: new Date() } });
      return r.count === 1;
    },

    /**
     * The running dumps no live process runs any more, and the queued ones a worker of a process
     * no longer alive had fetched (pg-boss holds their jobs active: nobody else would run them):
     * unattributed running ones and those of replicas
     * without a live Replica row (stopped, or dead: silent for LEASE_TTL; a replica id is new at
     * every start, so this replica's leftovers from before a restart are among them). This
     * replica's row exists (its first lease round ran), so its own running dumps are left alone.
     * Marked interrupted, returned. Without leasing there are no Replica rows: every running dump
     * is the lone process's leftover.
     */
    async interruptOrphans(): Promise<DumpRow[]> {
      return prisma.$queryRaw<DumpRow[]>`
        UPDATE "MemoryDump" SET "status" = 'interrupted', "finishedAt" = now(),
          "error" = CASE WHEN "status" = 'queued' THEN 'interrupted: the server stopped before this dump started' ELSE 'interrupted: the server stopped while this dump ran' END
        WHERE (("status" = 'running' AND "replica" IS NULL) OR ("status" IN ('running', 'queued') AND "replica" IS NOT NULL))
          AND ("replica" IS NULL OR NOT EXISTS (SELECT 1 FROM "Replica" r WHERE r."id" = "MemoryDump"."replica"))
        RETURNING *`;
    },

    /** The dumps queued or running now (every replica's), oldest first: what they will still write is held for them. */
    active: () => prisma.memoryDump.findMany({ where: { status: { in: ['queued', 'running'] } }, orderBy: { id: 'asc' } }),

    /** Each VM's latest dump that counts for DUMP_MIN_INTERVAL (queued, running or finished with a file), by VM id; one query. */
    async lastOfVms(vmIds: number[]): Promise<Map<number, DumpRow>> {
      if (!vmIds.length) return new Map();
      const rows = await prisma.$queryRaw<DumpRow[]>`
        SELECT DISTINCT ON ("vmId") * FROM "MemoryDump"
        WHERE "vmId" = ANY(${vmIds}::int[]) AND "status" IN ('queued', 'running', 'completed', 'deleted')
        ORDER BY "vmId", "id" DESC`;
      return new Map(rows.map((r) => [r.vmId, r]));
    },

    /**
     * Seed 003 records: written dumps, newest first (up to 1,000 a call), as the JSON text of the
     * records array's elements. Which records, in what order, is asked of PostgreSQL every time
     * (the index MemoryDump_finishedAt_id_idx, ids only); each record's text is rendered by
     * PostgreSQL once and kept (recordTexts): a written dump's seed fields never change (retention's
     * `deleted` keeps them), so a text never goes stale, on any replica. `vmIds` null: every VM's.
     */
    async records(limit: number, offset: number, vmIds: number[] | null): Promise<{ json: string; count: number }> {
      const page = await prisma.$queryRaw<{ id: number }[]>`
        SELECT "id" FROM "MemoryDump"
        WHERE "status" IN ('completed', 'deleted') AND (${vmIds === null} OR "vmId" = ANY(${vmIds ?? []}::int[]))
        ORDER BY "finishedAt" DESC, "id" DESC LIMIT ${limit} OFFSET ${offset}`;
      const missing = page.filter((r) => !recordTexts.has(r.id)).map((r) => r.id);
      if (missing.length) for (const r of await renderRecords(missing)) recordTexts.set(r.id, r.json);
      const texts = page.map((r) => recordTexts.get(r.id)).filter((t) => t !== undefined);
      while (recordTexts.size > MAX_RECORD_TEXTS) recordTexts.delete(recordTexts.keys().next().value!);
      return { json: texts.join(','), count: texts.length };
    },

    list: (f: DumpListFilter, take: number) =>
      prisma.memoryDump.findMany({ where: { ...whereOf(f), ...(f.beforeId ? { id: { lt: f.beforeId } } : {}) }, orderBy: { id: 'desc' }, take }),

    count: (f: DumpListFilter) => prisma.memoryDump.count({ where: whereOf(f) }),

    async stats(vmIds: number[] | null) {
      const [agg] = await prisma.$queryRaw<{ total: bigint; vms: bigint; kept: bigint | null; avg: number | null; last: Date | null }[]>`
        SELECT count(*) AS total, count(DISTINCT "vmId") AS vms,
               sum("gzipBytes") FILTER (WHERE "status" = 'completed') AS kept,
               avg("durationSec") AS avg, max("finishedAt") AS last
        FROM "MemoryDump" WHERE "status" IN ('completed', 'deleted') AND (${vmIds === null} OR "vmId" = ANY(${vmIds ?? []}::int[]))`;
      return { totalDumps: Number(agg!.total), totalVms: Number(agg!.vms), keptBytes: agg!.kept ?? 0n, avgDurationSec: agg!.avg, lastDump: agg!.last };
    },

    /** The newest trigger; with `vmIds`, the newest whose dumps (one at least) are all of those VMs. */
    lastTrigger: (vmIds: number[] | null) =>
      prisma.dumpTrigger.findFirst({
        where: vmIds === null ? {} : { dumps: { some: {}, every: { vmId: { in: vmIds } } } },
        orderBy: { id: 'desc' },
        include: { dumps: true },
      }),

    /** Completed dumps, newest first: what retention weighs. */
    kept: () => prisma.memoryDump.findMany({ where: { status: 'completed' }, orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }], select: { id: true, path: true, gzipBytes: true, finishedAt: true } }),

    markDeleted: (ids: number[]) => prisma.memoryDump.updateMany({ where: { id: { in: ids }, status: 'completed' }, data: { status: 'deleted', deletedAt: new Date() } }),

    addCustody: (dumpId: number, kind: 'download' | 'verify', who: string, ok: boolean | null, detail: string | null) =>
      prisma.dumpCustodyEvent.create({ data: { dumpId, kind, who, ok, detail } }),

    custody: (dumpId: number) => prisma.dumpCustodyEvent.findMany({ where: { dumpId }, orderBy: { id: 'asc' } }),
  };
}

export type DumpRecords = ReturnType<typeof createDumpRecords>;
