// GraphQL for memory dumps: DumpJob (a dump with its live progress and custody), the trigger
// batch, stats, Vm.dumps, and the dumpJobUpdated subscription. Resolvers only call the service.
import { z } from 'zod';
import { DUMP_PHASES, DUMP_STATUSES, type DumpFormat, type DumpProgress, type DumpStatus } from '../../../domain/dumps.js';
import { builder } from '../../../graphql/builder.js';
import { VmRef } from '../../inventory/feature.js';
import type { CustodyRow } from '../records.js';
import type { DumpJob, DumpRefusal, TriggerResult } from '../service.js';

const MAX_PAGE = 500;
const MAX_VM_REFS = 1000;

const DumpStatusEnum = builder.enumType('DumpStatus', {
  description: 'queued → running → completed | failed | timeout | cancelled | interrupted (the server stopped meanwhile); a completed dump whose file retention deleted is `deleted`',
  values: DUMP_STATUSES,
});

const DumpPhaseEnum = builder.enumType('DumpPhase', {
  description: 'queued: waiting for a slot; dumping: libvirt writes, vmpulse hashes and compresses; finishing: file and record; done',
  values: DUMP_PHASES,
});

const DumpFormatEnum = builder.enumType('DumpFormat', {
  description: 'Memory-only dump formats: ELF (what Volatility and crash read) or kdump compressed with zlib',
  values: { ELF: { value: 'elf' as DumpFormat }, KDUMP_ZLIB: { value: 'kdump-zlib' as DumpFormat } },
});

const DumpProgressRef = builder.objectRef<DumpProgress>('DumpProgress').implement({
  description: "A dump's progress: libvirt's job stats (memory processed / total) and the pipeline's byte counts",
  fields: (t) => ({
    phase: t.field({ type: DumpPhaseEnum, resolve: (p) => p.phase }),
    percent: t.exposeFloat('percent', { nullable: true, description: '0–100; 100 only once the file and record are written; null while unknown' }),
    rawBytes: t.exposeFloat('rawBytes', { description: 'raw dump bytes read so far, bytes' }),
    gzipBytes: t.exposeFloat('gzipBytes', { description: 'gzip bytes written so far, bytes' }),
    mbPerSec: t.exposeFloat('mbPerSec', { nullable: true, description: 'raw MB (10^6 bytes) per second since the start' }),
    etaSeconds: t.float({ nullable: true, description: 'seconds left, estimated', resolve: (p) => p.etaSec }),
    compressionRatio: t.exposeFloat('compressionRatio', { nullable: true, description: 'raw bytes / gzip bytes' }),
  }),
});

const CustodyEventRef = builder.objectRef<CustodyRow>('DumpCustodyEvent').implement({
  description: 'A download or a verification of a dump: who (token name) and when',
  fields: (t) => ({
    kind: t.exposeString('kind', { description: 'download | verify' }),
    who: t.exposeString('who'),
    at: t.expose('at', { type: 'DateTime' }),
    ok: t.exposeBoolean('ok', { nullable: true, description: 'verify: the hashes matched; download: every byte was sent' }),
    detail: t.exposeString('detail', { nullable: true }),
  }),
});

const DumpJobRef = builder.objectRef<DumpJob>('DumpJob').implement({
  description: 'One memory dump of one VM: the seed-003 record, its chain of custody and its live progress',
  fields: (t) => ({
    id: t.id({ resolve: (d) => d.id }),
    vmId: t.id({ resolve: (d) => d.vmId }),
    vm: t.field({ type: VmRef, nullable: true, resolve: (d, _a, ctx) => ctx.services.vms.get(d.vmId) ?? null }),
    vmName: t.exposeString('vmName', { description: 'the domain name when the dump was asked for (seed `dom`)' }),
    host: t.exposeString('hostName', { description: 'host name' }),
    hostUri: t.exposeString('hostUri'),
    domainUuid: t.exposeString('domainUuid'),
    format: t.exposeString('format', { description: 'elf, kdump-zlib, or test-driver' }),
    simulated: t.boolean({ description: "true on libvirt's test driver: the file is its 15-byte placeholder, not guest memory", resolve: (d) => d.format === 'test-driver' }),
    status: t.field({ type: DumpStatusEnum, resolve: (d) => d.status as DumpStatus }),
    error: t.exposeString('error', { nullable: true }),
    triggeredBy: t.exposeString('triggeredBy', { description: 'token name of whoever triggered it' }),
    replica: t.exposeString('replica', { nullable: true, description: 'the vmpulse replica that runs (ran) it: the one owning its host when a worker there took it; null until then' }),
    path: t.exposeString('path', { description: 'the .gz file on the vmpulse machine' }),
    sha256: t.exposeString('sha256', { nullable: true, description: 'SHA-256 of the raw dump (seed `sha256`)' }),
    gzipSha256: t.exposeString('gzipSha256', { nullable: true, description: 'SHA-256 of the .gz file' }),
    rawBytes: t.expose('rawBytes', { type: 'BigInt', nullable: true, description: 'raw dump size, bytes' }),
    gzipBytes: t.expose('gzipBytes', { type: 'BigInt', nullable: true, description: '.gz size, bytes' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    durationSec: t.exposeFloat('durationSec', { nullable: true }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true, description: 'when retention deleted the file' }),
    progress: t.field({ type: DumpProgressRef, resolve: (d) => d.progress }),
    downloadUrl: t.string({ nullable: true, description: 'GET it with the token (Authorization: Bearer); null when there is no file', resolve: (d) => (d.status === 'completed' ? `/api/memory-dumps/${d.id}/download` : null) }),
    custody: t.field({ type: [CustodyEventRef], description: 'every download and verification, oldest first', resolve: (d, _a, ctx) => ctx.services.dumps.custody(d.id) }),
  }),
});

const DumpRefusalRef = builder.objectRef<DumpRefusal>('DumpRefusal').implement({
  description: 'A VM reference that was not dumped, and why (unknown, dumped too recently, already running, no space, …)',
  fields: (t) => ({ vmRef: t.exposeString('ref'), reason: t.exposeString('reason') }),
});

const DumpBatchRef = builder.objectRef<TriggerResult>('DumpBatch').implement({
  description: 'One trigger: the dumps it queued and the references it refused',
  fields: (t) => ({
    id: t.id({ resolve: (b) => b.trigger.id }),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.trigger.createdAt }),
    vmRefs: t.stringList({ description: 'the references as given', resolve: (b) => b.trigger.vmIds }),
    message: t.string({ resolve: (b) => `Memory dump scheduled for ${b.scheduled.length} VM(s)${b.refused.length ? `; ${b.refused.length} refused` : ''}` }),
    dumps: t.field({ type: [DumpJobRef], resolve: (b) => b.scheduled }),
    refused: t.field({ type: [DumpRefusalRef], resolve: (b) => b.refused }),
  }),
});

const DumpVerificationRef = builder
  .objectRef<{ dump: DumpJob; ok: boolean; gzipSha256: string | null; sha256: string | null; detail: string; verifiedAt: Date }>('DumpVerification')
  .implement({
    description: "A re-hash of a stored dump: the .gz file's SHA-256 and, gunzipped, the raw dump's, against the record",
    fields: (t) => ({
      dump: t.field({ type: DumpJobRef, resolve: (v) => v.dump }),
      ok: t.exposeBoolean('ok'),
      gzipSha256: t.exposeString('gzipSha256', { nullable: true, description: 'computed now' }),
      sha256: t.exposeString('sha256', { nullable: true, description: 'computed now' }),
      detail: t.exposeString('detail'),
      verifiedAt: t.expose('verifiedAt', { type: 'DateTime' }),
    }),
  });

const DumpStatsRef = builder
  .objectRef<{ totalDumps: number; totalVms: number; keptBytes: bigint; avgDurationSec: number | null; lastDump: Date | null }>('DumpStats')
  .implement({
    description: 'Seed 003 /stats',
    fields: (t) => ({
      totalDumps: t.exposeInt('totalDumps', { description: 'dumps written (including those retention deleted since)' }),
      totalVms: t.exposeInt('totalVms', { description: 'distinct VMs among them' }),
      totalSizeBytes: t.expose('keptBytes', { type: 'BigInt', description: 'bytes of the dump files kept now' }),
      avgDurationSec: t.exposeFloat('avgDurationSec', { nullable: true }),
      lastDump: t.expose('lastDump', { type: 'DateTime', nullable: true }),
    }),
  });

const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('DumpPageInfo').implement({
  fields: (t) => ({ hasNextPage: t.exposeBoolean('hasNextPage'), endCursor: t.exposeString('endCursor', { nullable: true, description: 'pass as `after` for the next page' }) }),
});

const DumpConnectionRef = builder
  .objectRef<{ nodes: DumpJob[]; hasNextPage: boolean; endCursor: string | null; totalCount: () => Promise<number> }>('DumpConnection')
  .implement({
    description: 'A page of dumps, newest first',
    fields: (t) => ({
      nodes: t.field({ type: [DumpJobRef], resolve: (c) => c.nodes }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c }),
      totalCount: t.int({ description: 'dumps matching the filter, all pages', resolve: (c) => c.totalCount() }),
    }),
  });

/** A name or id a client types: bounded, printable. */
const reference = (what: string) =>
  z
    .string()
    .max(255, `${what} is at most 255 characters`)
    .regex(/^\P{Cc}*$/u, `${what} must not contain control characters`);
const dumpId = z.string().regex(/^\d{1,9}$/, 'id must be a dump id (a positive integer)');

const DumpFilter = builder.inputType('DumpFilter', {
  description: 'Every given condition must hold',
  fields: (t) => ({
    vm: t.string({ required: false, description: 'VM id, uuid or name', validate: reference('vm') }),
    status: t.field({ type: DumpStatusEnum, required: false }),
    host: t.string({ required: false, description: 'host name', validate: reference('host') }),
  }),
});

builder.queryFields((t) => ({
  dumps: t.field({
    type: DumpConnectionRef,
    description: 'Dumps newest first, paged: `first` (1–500, default 50) after the cursor `after`',
    args: {
      filter: t.arg({ type: DumpFilter, required: false }),
      first: t.arg.int({ required: false, defaultValue: 50, validate: z.number().int().min(1, 'first must be at least 1').max(MAX_PAGE, `first must be at most ${MAX_PAGE}`) }),
      after: t.arg.string({ required: false, validate: z.string().regex(/^\d{1,9}$/, 'after must be a cursor from pageInfo.endCursor') }),
    },
    complexity: ({ first }) => ({ field: 1, multiplier: first ?? 50 }),
    resolve: (_r, { filter, first, after }, ctx) =>
      ctx.services.dumps.list(
        ctx.principal,
        { vmRef: filter?.vm ?? undefined, status: (filter?.status ?? undefined) as DumpStatus | undefined, host: filter?.host ?? undefined, beforeId: after ? Number(after) : undefined },
        first ?? 50,
      ),
  }),
  dump: t.field({
    type: DumpJobRef,
    nullable: true,
    description: 'One dump by id; null when unknown',
    args: { id: t.arg.id({ required: true, validate: dumpId }) },
    resolve: async (_r, { id }, ctx) => {
      try {
        return await ctx.services.dumps.get(ctx.principal, Number(id));
      } catch (err) {
        if ((err as { code?: string }).code === 'NOT_FOUND') return null;
        throw err;
      }
    },
  }),
  dumpStats: t.field({ type: DumpStatsRef, resolve: (_r, _a, ctx) => ctx.services.dumps.stats(ctx.principal) }),
}));

builder.objectField(VmRef, 'dumps', (t) =>
  t.field({
    type: [DumpJobRef],
    description: "This VM's dumps, newest first (`first`: 1–500, default 20)",
    args: { first: t.arg.int({ required: false, defaultValue: 20, validate: z.number().int().min(1, 'first must be at least 1').max(MAX_PAGE, `first must be at most ${MAX_PAGE}`) }) },
    complexity: ({ first }) => ({ field: 1, multiplier: first ?? 20 }),
    resolve: async (vm, { first }, ctx) => (await ctx.services.dumps.list(ctx.principal, { vmId: vm.id }, first ?? 20)).nodes,
  }),
);

builder.mutationFields((t) => ({
  triggerDumps: t.field({
    type: DumpBatchRef,
    description: 'Queues a memory dump of each VM (ids, uuids or names; ["all"] = every running VM). References that cannot be dumped are in `refused`; the others are not held up.',
    args: {
      vmIds: t.arg.stringList({
        required: true,
        validate: z.array(reference('a VM reference')).min(1, 'No VM IDs specified').max(MAX_VM_REFS, `at most ${MAX_VM_REFS} VM references`),
      }),
      format: t.arg({ type: DumpFormatEnum, required: false, description: 'default DUMP_FORMAT (ELF)' }),
    },
    resolve: (_r, { vmIds, format }, ctx) => ctx.services.dumps.trigger(ctx.principal, vmIds, format ?? undefined),
  }),
  cancelDump: t.field({
    type: DumpJobRef,
    description: 'Cancels a queued or running dump (a running one stops within seconds and leaves no file); a dump that already ended is returned as it is',
    args: { id: t.arg.id({ required: true, validate: dumpId }) },
    resolve: (_r, { id }, ctx) => ctx.services.dumps.cancel(ctx.principal, Number(id)),
  }),
  verifyDump: t.field({
    type: DumpVerificationRef,
    description: 'Re-hashes the stored dump against its record; the result is kept in its custody',
    args: { id: t.arg.id({ required: true, validate: dumpId }) },
    resolve: (_r, { id }, ctx) => ctx.services.dumps.verify(ctx.principal, Number(id)),
  }),
}));

builder.subscriptionFields((t) => ({
  dumpJobUpdated: t.field({
    type: DumpJobRef,
    description: 'With id: that dump now, then each change. Without: the dumps queued or running now, then every change of any dump. Progress comes at most 4 times a second per dump; status changes always.',
    args: { id: t.arg.id({ required: false, validate: dumpId }) },
    subscribe: (_r, { id }, ctx) => ctx.services.dumps.watch(ctx.principal, id == null ? undefined : Number(id)),
    resolve: (job) => job,
  }),
}));
