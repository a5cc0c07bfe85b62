// A plain stats record (the object form of libvirt's params, as tests and recorded fixtures have
// them) as the StatsRow the collector's mapping reads.
import type { StatValue } from '../../../../libvirt/types.js';
import type { StatsRow } from '../mapping.js';

/** v when it is a non-negative integer a double holds exactly (as a number or a BigInt), else NaN */
function exactOf(v: StatValue | undefined): number {
  const x = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isInteger(x) && x >= 0 && x <= Number.MAX_SAFE_INTEGER ? x : Number.NaN;
}

export const plainRow = (record: Readonly<Record<string, StatValue>>): StatsRow => ({ get: (k) => record[k], number: (k) => exactOf(record[k]) });
