// A plain stats record (the object form of libvirt's params, as tests and recorded fixtures have
// them) as the StatsRow the collector's mapping reads.
import { statsKeyName } from '../../../../libvirt/stats-table.js';
import type { StatValue } from '../../../../libvirt/types.js';
import { countOf } from '../../../../lib/counts.js';
import type { StatsRow } from '../mapping.js';

export const plainRow = (record: Readonly<Record<string, StatValue>>): StatsRow => ({
  get: (slot) => record[statsKeyName(slot)],
  counter: (slot) => countOf(record[statsKeyName(slot)]),
});
