// Stored history of one VM: `Vm.history(input: HistoryInput!)`, with the range and field names as enums.
import { z } from 'zod';
import {
  DEFAULT_HISTORY_FIELDS,
  DEFAULT_HISTORY_POINTS,
  HISTORY_FIELDS,
  HISTORY_RANGE_ENUM_NAMES,
  HISTORY_RANGE_NAMES,
  HISTORY_RANGES,
  MAX_HISTORY_POINTS,
  type HistoryField,
  type HistoryPoint,
  type HistoryRange,
} from '../../../domain/history.js';
import { builder } from '../../../graphql/builder.js';
import { VmRef } from '../../inventory/feature.js';

// GraphQL enum names cannot start with a digit: each range is named for what it is
// (LAST_15_MINUTES …, domain/history.ts) and keeps the domain's key ('15m' …) as its value.
const HistoryRangeEnum = builder.enumType('HistoryRange', {
  description: 'A window ending now (REST and the domain call them 15m, 1h, 6h, 24h, 7d, 30d)',
  values: Object.fromEntries(
    HISTORY_RANGE_NAMES.map((r) => [HISTORY_RANGE_ENUM_NAMES[r], { value: r, description: `the last ${r} (${HISTORY_RANGES[r]} s)` }]),
  ) as Record<string, { value: HistoryRange; description: string }>,
});

const HistoryFieldEnum = builder.enumType('HistoryField', {
  description: 'A stored series: a seed metric (its raw value), a counter\'s per-second rate (`<counter>_rate`), or a percentage (`*_pct`)',
  values: HISTORY_FIELDS,
});

const MAX_STEP_SEC = HISTORY_RANGES['30d'];

const HistoryInput = builder.inputType('HistoryInput', {
  description: 'Which window (a range, or from and to), at which step, and which fields',
  fields: (t) => ({
    range: t.field({ type: HistoryRangeEnum, required: false, description: 'a window ending now; or give from and to' }),
    from: t.field({ type: 'DateTime', required: false }),
    to: t.field({ type: 'DateTime', required: false }),
    step: t.int({
      required: false,
      description: `bucket width in seconds, 1 to ${MAX_STEP_SEC} (default: about ${DEFAULT_HISTORY_POINTS} buckets); at most ${MAX_HISTORY_POINTS} buckets`,
      validate: z.number().int().min(1, 'step must be at least 1 s').max(MAX_STEP_SEC, `step must be at most ${MAX_STEP_SEC} s (30 days)`),
    }),
    fields: t.field({
      type: [HistoryFieldEnum],
      required: false,
      description: `default: ${DEFAULT_HISTORY_FIELDS.join(', ')}`,
      validate: z
        .array(z.string())
        .min(1, 'fields: name at least one, or leave it out for the default')
        .refine((f) => new Set(f).size === f.length, 'fields: each field at most once'),
    }),
  }),
  validate: z
    .looseObject({ range: z.unknown().optional(), from: z.date().nullish(), to: z.date().nullish() })
    .refine((i) => (i.range != null) !== (i.from != null || i.to != null), 'give either a range or from and to')
    .refine((i) => i.range != null || (i.from != null && i.to != null), 'give both from and to')
    .refine((i) => !i.from || !i.to || i.from < i.to, 'from must be before to'),
});

type HistoryArgs = { range?: HistoryRange | null; from?: Date | null; to?: Date | null; step?: number | null; fields?: HistoryField[] | null };

/** What one history answer costs: buckets × fields, the values it holds. */
function historyCost(input: HistoryArgs): number {
  const fields = input.fields?.length ?? DEFAULT_HISTORY_FIELDS.length;
  const spanSec = input.range ? HISTORY_RANGES[input.range] : input.from && input.to ? (input.to.getTime() - input.from.getTime()) / 1000 : 0;
  const points = input.step ? Math.min(MAX_HISTORY_POINTS, Math.ceil(spanSec / input.step)) : DEFAULT_HISTORY_POINTS;
  return Math.max(1, points) * fields;
}

const HistoryValueRef = builder.objectRef<{ field: HistoryField; avg: number; min: number; max: number }>('HistoryValue').implement({
  fields: (t) => ({
    field: t.field({ type: HistoryFieldEnum, resolve: (v) => v.field }),
    avg: t.exposeFloat('avg'),
    min: t.exposeFloat('min'),
    max: t.exposeFloat('max'),
  }),
});

const HistoryPointRef = builder.objectRef<HistoryPoint>('HistoryPoint').implement({
  fields: (t) => ({
    timestamp: t.field({ type: 'DateTime', description: 'start of the bucket', resolve: (p) => p.ts }),
    values: t.field({
      type: [HistoryValueRef],
      complexity: { field: 1, multiplier: 1 }, // paid for by Vm.history
      resolve: (p) => (Object.entries(p.values) as [HistoryField, { avg: number; min: number; max: number }][]).map(([field, v]) => ({ field, ...v })),
    }),
  }),
});

const HistorySeriesRef = builder.objectRef<{ from: Date; to: Date; stepSec: number; points: HistoryPoint[] }>('HistorySeries').implement({
  fields: (t) => ({
    from: t.expose('from', { type: 'DateTime' }),
    to: t.expose('to', { type: 'DateTime' }),
    stepSec: t.exposeInt('stepSec'),
    points: t.field({ type: [HistoryPointRef], complexity: { field: 1, multiplier: 1 }, resolve: (h) => h.points }),
  }),
});

builder.objectFields(VmRef, (t) => ({
  history: t.field({
    type: HistorySeriesRef,
    description: 'Stored history of this VM',
    args: { input: t.arg({ type: HistoryInput, required: true }) },
    complexity: ({ input }) => historyCost(input),
    resolve: (vm, { input }, ctx) =>
      ctx.services.metrics.history(vm.id, {
        range: input.range,
        from: input.from,
        to: input.to,
        stepSec: input.step,
        fields: input.fields ?? [...DEFAULT_HISTORY_FIELDS],
      }),
  }),
}));
