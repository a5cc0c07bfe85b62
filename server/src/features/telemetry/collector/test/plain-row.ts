// A plain stats record (the object form of libvirt's params, as tests and recorded fixtures have
// them) as the StatsRow the collector's mapping reads.
import { statsKeySlot } from '../../../../libvirt/stats-table.js';
import type { StatValue } from '../../../../libvirt/types.js';
import { countOf } from '../../../../lib/counts.js';
import type { StatsRow } from '../mapping.js';

export function plainRow(record: Readonly<Record<string, StatValue>>): StatsRow {
  const bySlot = new Map(Object.entries(record).map(([k, v]) => [statsKeySlot(k), v]));
  return { get: (slot) => bySlot.get(slot), counter: (slot) => countOf(bySlot.get(slot)) };
}
