// Seed 003_5bf696811abecbc4.txt: /api/memory-dumps/{trigger,records,status,stats}, exactly, and
// beyond the seed in the same family: /{id} (the custody record), /{id}/download, /{id}/verify,
// /{id}/cancel. Errors: {"detail": "…"}.
import { z } from 'zod';
import { DUMP_FORMATS, DUMP_PHASES, DUMP_STATUSES, TRIGGER_STATUSES } from '../../../domain/dumps.js';
import { AppError } from '../../../lib/errors.js';
import { defineRoute, detailErrors, FileAnswer, isoTimestamp, JsonAnswer, type RouteFamily } from '../../../lib/rest.js';
import type { CustodyRow } from '../records.js';
import { type DumpJob, type DumpService, seedTimestamp } from '../service.js';

const PREFIX = '/api/memory-dumps';
const MAX_VM_IDS = 1000;
const MAX_RECORDS = 1000;

// ---- schemas ------------------------------------------------------------------------------------

const TriggerBody = z
  .object({
    vm_ids: z
      .array(z.union([z.string().max(255, 'a VM reference is at most 255 characters'), z.number().int()]))
      .max(MAX_VM_IDS, `at most ${MAX_VM_IDS} VM ids`)
      .optional()
      .describe('VM ids, uuids or names; ["all"] = every running VM'),
    format: z.enum(DUMP_FORMATS).optional().describe('memory-only dump format; default DUMP_FORMAT (elf)'),
  })
  .meta({ id: 'DumpTriggerRequest', description: 'Seed 003: the VMs to dump' });

const TriggerAnswer = z
  .object({
    status: z.literal('scheduled'),
    message: z.string(),
    vm_ids: z.array(z.string()).describe('the references as given'),
    timestamp: isoTimestamp('when it was scheduled, UTC with microseconds (no zone suffix)'),
    dump_ids: z.array(z.number().int()).optional().describe('beyond the seed: the dumps queued, to follow with GET /api/memory-dumps/{id}'),
    refused: z
      .array(z.object({ vm_id: z.string(), reason: z.string() }))
      .optional()
      .describe('beyond the seed: references not dumped and why (unknown VM, dumped too recently, no space, …)'),
  })
  .meta({ id: 'DumpTriggerResponse', description: 'Seed 003: the dumps are scheduled; they run in the background' });

const RecordsQuery = z.object({
  limit: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(MAX_RECORDS, `must be at most ${MAX_RECORDS}`).default(MAX_RECORDS).describe('records to return (1–1000, default 1000)'),
  offset: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(0, 'must be at least 0').max(1e9, 'must be at most 1000000000').default(0).describe('records to skip'),
});

const SeedRecord = z.object({
  timestamp: isoTimestamp('when the dump was created (finished), UTC with microseconds'),
  dom: z.string().describe('VM domain name'),
  vmid: z.string().describe('vmpulse VM id'),
  sha256: z.string().describe('SHA-256 of the raw dump, hex'),
  duration_sec: z.number().describe('time to complete the dump, s'),
  gzip_size_bytes: z.number().int().describe('compressed size, bytes'),
  ctime: z.number().int().describe('file creation time, unix seconds'),
  mtime: z.number().int().describe('file modification time, unix seconds'),
  atime: z.number().int().describe('file access time, unix seconds (when it was written)'),
  dump_path: z.string().describe('full path of the dump file'),
});

const Records = z
  .object({ records: z.array(SeedRecord), count: z.number().int(), limit: z.number().int(), offset: z.number().int() })
  .meta({ id: 'DumpRecords', description: 'Seed 003: written dumps, newest first (records of files deleted by retention stay)' });

const Status = z
  .object({
    last_trigger: z.object({
      timestamp: isoTimestamp('when the last trigger came').optional(),
      vm_ids: z.array(z.string()).optional(),
      status: z.enum(TRIGGER_STATUSES).optional(),
      duration: z.number().optional().describe('s, once finished'),
    }),
    status: z.enum(TRIGGER_STATUSES).describe('idle: nothing triggered yet; failed: a dump failed, was cancelled or interrupted; timeout: a dump exceeded DUMP_TIMEOUT; error: no VM of the trigger could be dumped'),
    vm_ids: z.array(z.string()),
    timestamp: isoTimestamp('when the last trigger came').nullable(),
    duration: z.number().nullable().describe('s from the trigger to its last dump ending'),
    error: z.string().nullable(),
  })
  .meta({ id: 'DumpStatus', description: 'Seed 003: the last trigger as a whole' });

const Stats = z
  .object({
    total_dumps: z.number().int().describe('dumps written (including those retention deleted since)'),
    total_vms: z.number().int().describe('distinct VMs among them'),
    total_size_bytes: z.number().int().describe('compressed bytes of the dump files kept now'),
    avg_duration_sec: z.number().describe('mean dump time, s (0 when none)'),
    last_dump: isoTimestamp('when the newest dump was written').nullable(),
  })
  .meta({ id: 'DumpStats', description: 'Seed 003: aggregate statistics' });

const Progress = z.object({
  phase: z.enum(DUMP_PHASES),
  percent: z.number().nullable(),
  raw_bytes: z.number().int().describe('raw dump bytes read, bytes'),
  gzip_bytes: z.number().int().describe('gzip bytes written, bytes'),
  mb_per_sec: z.number().nullable().describe('raw MB (10^6 bytes) per second'),
  eta_sec: z.number().nullable().describe('s left, estimated'),
  compression_ratio: z.number().nullable().describe('raw / gzip'),
});

const Custody = z.object({ who: z.string().describe('token name'), at: isoTimestamp('when'), ok: z.boolean().nullable(), detail: z.string().nullable() });

const DumpRecordBody = z
  .object({
    id: z.number().int(),
    vm_id: z.number().int(),
    dom: z.string(),
    host: z.string(),
    host_uri: z.string(),
    domain_uuid: z.string(),
    format: z.string().describe('elf, kdump-zlib, or test-driver (the test driver\'s 15-byte placeholder: no guest memory)'),
    status: z.enum(DUMP_STATUSES),
    error: z.string().nullable(),
    triggered_by: z.string().describe('token name of whoever triggered it'),
    replica: z.string().nullable().describe('the vmpulse replica that runs (ran) it: the one owning its host when a worker there took it; null until then'),
    dump_path: z.string(),
    sha256: z.string().nullable().describe('SHA-256 of the raw dump'),
    gzip_sha256: z.string().nullable().describe('SHA-256 of the .gz file'),
    raw_size_bytes: z.number().int().nullable(),
    gzip_size_bytes: z.number().int().nullable(),
    created_at: isoTimestamp('queued at'),
    started_at: isoTimestamp('started at').nullable(),
    finished_at: isoTimestamp('ended at').nullable(),
    duration_sec: z.number().nullable(),
    deleted_at: isoTimestamp('file deleted by retention at').nullable(),
    progress: Progress,
    downloads: z.array(Custody).describe('every download: who, when, whether every byte went out'),
    verifications: z.array(Custody).describe('every verify: who, when, whether the hashes matched'),
  })
  .meta({ id: 'DumpRecord', description: 'One dump with its chain of custody' });

const Verify = z
  .object({
    id: z.number().int(),
    ok: z.boolean().describe('the file\'s SHA-256 and, gunzipped, the raw dump\'s SHA-256 both match the record'),
    gzip_sha256: z.string().nullable().describe('computed now'),
    sha256: z.string().nullable().describe('computed now, of the gunzipped bytes'),
    expected_gzip_sha256: z.string().nullable(),
    expected_sha256: z.string().nullable(),
    detail: z.string(),
    verified_at: isoTimestamp('when'),
  })
  .meta({ id: 'DumpVerification', description: 'A re-hash of a stored dump against its record' });

const IdParam = z.object({ id: z.string().regex(/^\d{1,9}$/, 'must be a dump id (a positive integer)').describe('dump id') });

// ---- shaping ------------------------------------------------------------------------------------

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const num = (b: bigint | null) => (b === null ? null : Number(b));
const custody = (rows: CustodyRow[], kind: string) => rows.filter((r) => r.kind === kind).map((r) => ({ who: r.who, at: r.at.toISOString(), ok: r.ok, detail: r.detail }));

function recordBody(d: DumpJob, events: CustodyRow[]): z.output<typeof DumpRecordBody> {
  const p = d.progress;
  return {
    id: d.id,
    vm_id: d.vmId,
    dom: d.vmName,
    host: d.hostName,
    host_uri: d.hostUri,
    domain_uuid: d.domainUuid,
    format: d.format,
    status: d.status as z.output<typeof DumpRecordBody>['status'],
    error: d.error,
    triggered_by: d.triggeredBy,
    replica: d.replica,
    dump_path: d.path,
    sha256: d.sha256,
    gzip_sha256: d.gzipSha256,
    raw_size_bytes: num(d.rawBytes),
    gzip_size_bytes: num(d.gzipBytes),
    created_at: d.createdAt.toISOString(),
    started_at: iso(d.startedAt),
    finished_at: iso(d.finishedAt),
    duration_sec: d.durationSec,
    deleted_at: iso(d.deletedAt),
    progress: { phase: p.phase, percent: p.percent, raw_bytes: p.rawBytes, gzip_bytes: p.gzipBytes, mb_per_sec: p.mbPerSec, eta_sec: p.etaSec, compression_ratio: p.compressionRatio },
    downloads: custody(events, 'download'),
    verifications: custody(events, 'verify'),
  };
}

// ---- routes -------------------------------------------------------------------------------------

export function memoryDumpRoutes(dumps: DumpService): RouteFamily {
  return {
    prefix: PREFIX,
    tag: 'memory-dumps',
    description: 'Seed 003 (003_5bf696811abecbc4.txt): memory dumps, and their custody records',
    errors: detailErrors,
    routes: [
      defineRoute({
        method: 'POST',
        path: `${PREFIX}/trigger`,
        role: 'operator',
        summary: 'Schedule memory dumps of VMs',
        description:
          'Answers at once; the dumps run in the background (at most DUMP_CONCURRENCY at once, one per VM). A reference that cannot be dumped (unknown VM, dumped less than DUMP_MIN_INTERVAL ago, not enough space) is listed in `refused` without failing the others; when none can be dumped: 404 (all unknown) or 409.',
        schema: { body: TriggerBody, response: TriggerAnswer },
        errors: { 404: 'no VM of the list exists', 409: 'no VM of the list can be dumped now; the message says why for each', 503: 'the job queue is unavailable' },
        async handle({ body, principal }) {
          const refs = (body?.vm_ids ?? []).map(String);
          const r = await dumps.trigger(principal, refs, body?.format);
          if (!r.scheduled.length) {
            const allUnknown = r.refused.every((x) => /not found/.test(x.reason));
            const why = r.refused.map((x) => `${x.ref}: ${x.reason}`).join('; ');
            throw new AppError(allUnknown ? 'NOT_FOUND' : 'CONFLICT', `No memory dump scheduled: ${why}`);
          }
          return {
            status: 'scheduled' as const,
            message: `Memory dump scheduled for ${r.scheduled.length} VM(s)${r.refused.length ? `; ${r.refused.length} refused` : ''}`,
            vm_ids: refs,
            timestamp: seedTimestamp(r.trigger.createdAt),
            dump_ids: r.scheduled.map((d) => d.id),
            ...(r.refused.length ? { refused: r.refused.map((x) => ({ vm_id: x.ref, reason: x.reason })) } : {}),
          };
        },
      }),
      defineRoute({
        method: 'GET',
        path: `${PREFIX}/records`,
        role: 'viewer',
        summary: 'Dump records, newest first',
        schema: { query: RecordsQuery, response: Records },
        async handle({ query, principal }) {
          // The records arrive as JSON text (see records.ts); the answer is written around them.
          const r = await dumps.records(principal, query.limit, query.offset);
          return new JsonAnswer(`{"records":[${r.json}],"count":${r.count},"limit":${query.limit},"offset":${query.offset}}`);
        },
      }),
      defineRoute({
        method: 'GET',
        path: `${PREFIX}/status`,
        role: 'viewer',
        summary: 'Status of the last trigger',
        schema: { response: Status },
        async handle({ principal }) {
          const s = await dumps.status(principal);
          if (!s.trigger) return { last_trigger: {}, status: 'idle' as const, vm_ids: [], timestamp: null, duration: null, error: null };
          const timestamp = seedTimestamp(s.trigger.createdAt);
          return {
            last_trigger: { timestamp, vm_ids: s.trigger.vmIds, status: s.status, ...(s.durationSec !== null ? { duration: s.durationSec } : {}) },
            status: s.status,
            vm_ids: s.trigger.vmIds,
            timestamp,
            duration: s.durationSec,
            error: s.error,
          };
        },
      }),
      defineRoute({
        method: 'GET',
        path: `${PREFIX}/stats`,
        role: 'viewer',
        summary: 'Aggregate dump statistics',
        schema: { response: Stats },
        async handle({ principal }) {
          const s = await dumps.stats(principal);
          return {
            total_dumps: s.totalDumps,
            total_vms: s.totalVms,
            total_size_bytes: Number(s.keptBytes),
            avg_duration_sec: s.avgDurationSec === null ? 0 : Math.round(s.avgDurationSec * 1000) / 1000,
            last_dump: s.lastDump ? seedTimestamp(s.lastDump) : null,
          };
        },
      }),
      defineRoute({
        method: 'GET',
        path: `${PREFIX}/:id`,
        role: 'viewer',
        summary: 'One dump with its chain of custody (beyond the seed)',
        schema: { params: IdParam, response: DumpRecordBody },
        async handle({ params, principal }) {
          const id = Number(params.id);
          const d = await dumps.get(principal, id);
          return recordBody(d, await dumps.custody(id));
        },
      }),
      defineRoute({
        method: 'GET',
        path: `${PREFIX}/:id/download`,
        role: 'viewer',
        summary: 'The dump file (.gz), streamed (beyond the seed)',
        description: 'Content-Length is the file size; X-Content-SHA256 (hex) and Repr-Digest (RFC 9530) carry the SHA-256 of the file as recorded when it was written. Every download is logged in the dump\'s custody record. 409 when the file was deleted by retention.',
        errors: { 409: 'the dump has no file (not completed, or deleted by retention)' },
        schema: { params: IdParam, produces: ['application/gzip'], response: z.string().meta({ format: 'binary', description: 'the .gz file' }) },
        async handle({ params, principal }) {
          const f = await dumps.download(principal, Number(params.id));
          return new FileAnswer(f.stream, 'application/gzip', {
            'content-length': String(f.size),
            'content-disposition': `attachment; filename="${f.filename}"`,
            'x-content-sha256': f.gzipSha256,
            'repr-digest': `sha-256=:${Buffer.from(f.gzipSha256, 'hex').toString('base64')}:`,
            'cache-control': 'no-store',
          });
        },
      }),
      defineRoute({
        method: 'POST',
        path: `${PREFIX}/:id/verify`,
        role: 'operator',
        summary: 'Re-hash the stored dump against its record (beyond the seed)',
        schema: { params: IdParam, response: Verify },
        errors: { 409: 'the dump has no file to verify' },
        async handle({ params, principal }) {
          const v = await dumps.verify(principal, Number(params.id));
          return {
            id: v.dump.id,
            ok: v.ok,
            gzip_sha256: v.gzipSha256,
            sha256: v.sha256,
            expected_gzip_sha256: v.dump.gzipSha256,
            expected_sha256: v.dump.sha256,
            detail: v.detail,
            verified_at: v.verifiedAt.toISOString(),
          };
        },
      }),
      defineRoute({
        method: 'POST',
        path: `${PREFIX}/:id/cancel`,
        role: 'operator',
        summary: 'Cancel a queued or running dump (beyond the seed)',
        description: 'A running dump stops within seconds (its pipe is closed: libvirt cannot abort memory-only dumps); no file is left. A dump that already ended is answered as it is (idempotent: its status says how it ended).',
        schema: { params: IdParam, response: DumpRecordBody },
        errors: { 409: 'the dump runs on another vmpulse process' },
        async handle({ params, principal }) {
          const id = Number(params.id);
          const d = await dumps.cancel(principal, id);
          return recordBody(d, await dumps.custody(id));
        },
      }),
    ],
  };
}
