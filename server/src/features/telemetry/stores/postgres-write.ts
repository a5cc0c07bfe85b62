// One INSERT for any number of blocks: keys and sizes travel as arrays, the bytes of every block
// as ONE binary parameter that substring() cuts apart, so a minute of 1,000 VMs (~2.5 MB) is a
// single Bind/Execute with no hex or escaping. The statement text never changes per table, so
// it is prepared once per connection.
import type { QueryConfig } from 'pg';

export interface BlockRow {
  vmId: number;
  /** the block's key: its first sample (raw), or the start of its hour / day (rollup tiers) */
  ts: number;
  samples: number;
  data: Uint8Array;
  summary: Uint8Array;
}

const insertText = (table: string, onConflict: string) =>
  `INSERT INTO ${table} ("vmId", "ts", "samples", "data", "summary")\n` +
  `SELECT v, t, n, substring($4::bytea FROM o FOR l), substring($4::bytea FROM so FOR sl)\n` +
  `FROM unnest($1::int4[], $2::timestamptz[], $3::int4[], $5::int4[], $6::int4[], $7::int4[], $8::int4[]) AS b(v, t, n, o, l, so, sl)\n` +
  onConflict;

/**
 * Raw blocks are written once: a retried write whose first attempt did commit (the reply was
 * lost) must not fail again. Rollup rows are recomputed by a re-roll: they replace what was there.
 */
export function buildBlockInsert(table: string, rows: readonly BlockRow[], mode: 'keep' | 'replace'): QueryConfig {
  const size = rows.reduce((n, r) => n + r.data.length + r.summary.length, 0);
  const bytes = Buffer.allocUnsafe(size);
  const offsets: number[][] = [[], [], [], []];
  let at = 0;
  for (const r of rows) {
    for (const [k, part] of [r.data, r.summary].entries()) {
      bytes.set(part, at);
      offsets[2 * k]!.push(at + 1); // substring() counts from 1
      offsets[2 * k + 1]!.push(part.length);
      at += part.length;
    }
  }
  const onConflict =
    mode === 'keep'
      ? 'ON CONFLICT DO NOTHING'
      : 'ON CONFLICT ("vmId", "ts") DO UPDATE SET "samples" = EXCLUDED."samples", "data" = EXCLUDED."data", "summary" = EXCLUDED."summary"';
  return {
    name: `vmpulse_block_insert_${table.replace(/\W/g, '')}_${mode}`,
    text: insertText(table, onConflict),
    values: [rows.map((r) => r.vmId), rows.map((r) => new Date(r.ts).toISOString()), rows.map((r) => r.samples), bytes, ...offsets],
  };
}
