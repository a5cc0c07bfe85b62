// Table-by-table check of written lines against Telegraf's README (telegraf-libvirt-readme.ts) for one libvirt
// stats record: every field a line carries is documented for its table; every documented metric libvirt
// reported is there under Telegraf's name, with libvirt's value, as an integer or string like Telegraf writes
// it; every documented metric libvirt did not report is absent (not 0); no reserved column anywhere.
import { lineProtocolLines, parseLine, type ColType, type FieldVal } from '../../../../../test/fakes/influxdb3-fake-catalog.js';
import { INFLUXDB3_RENAMES, TELEGRAF_README_ROWS, readmeRowsFor } from './telegraf-libvirt-readme.js';

export interface TableReport { lines: number; fields: string[] }
export interface ReadmeCheck { tables: Map<string, TableReport>; problems: string[] }

const renamed = (f: string) => INFLUXDB3_RENAMES[f] ?? f;

function expected(field: string, v: bigint | number | string | boolean): { type: ColType; value: FieldVal } {
  if (field === 'halted') return { type: 'string', value: v === true || v === 'yes' ? 'yes' : typeof v === 'string' ? v : 'no' };
  if (field === 'halted_i') return { type: 'integer', value: v === true || v === 'yes' ? 1n : 0n };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'boolean') return { type: 'integer', value: v ? 1n : 0n };
  return { type: 'integer', value: BigInt(v) };
}

export function checkAgainstReadme(record: Readonly<Record<string, bigint | number | string | boolean>>, text: string, baseTags: Record<string, string>): ReadmeCheck {
  const problems: string[] = [];
  const tables = new Map<string, TableReport>();
  const readmeTables = new Map<string, { fields: Set<string>; deviceTag?: string }>();
  for (const r of TELEGRAF_README_ROWS) {
    const t = readmeTables.get(r.table) ?? { fields: new Set<string>(), ...(r.deviceTag ? { deviceTag: r.deviceTag } : {}) };
    t.fields.add(renamed(r.field));
    readmeTables.set(r.table, t);
  }
  // line key: table + the tags beyond the base set
  const lines = new Map<string, { fields: Map<string, [ColType, FieldVal]> }>();
  for (const raw of lineProtocolLines(text)) {
    const line = parseLine(raw);
    if (!line.table.startsWith('libvirt_')) continue;
    const doc = readmeTables.get(line.table);
    if (!doc) {
      problems.push(`${line.table}: not a table of Telegraf's README`);
      continue;
    }
    const tags = Object.fromEntries(line.tags);
    const extra = Object.keys(tags).filter((k) => !(k in baseTags));
    for (const [k, v] of Object.entries(baseTags)) if (tags[k] !== v) problems.push(`${line.table}: tag ${k}=${tags[k]}, want ${v}`);
    const wantExtra = line.table === 'libvirt_cpu_cache_monitor_bank' ? ['cache_monitor_id', 'bank_index'] : doc.deviceTag ? [doc.deviceTag] : [];
    if (extra.sort().join() !== [...wantExtra].sort().join()) problems.push(`${line.table}: device tags [${extra}] want [${wantExtra}]`);
    const key = `${line.table}|${wantExtra.map((t) => tags[t]).join('|')}`;
    const fields = new Map(line.fields.map(([k, type, v]) => [k, [type, v] as [ColType, FieldVal]]));
    for (const k of fields.keys()) {
      if (!doc.fields.has(k)) problems.push(`${line.table}: field ${k} is not in Telegraf's README for this table`);
      if (k === 'time' || k === '__chunk_order') problems.push(`${line.table}: reserved column ${k}`);
    }
    if (lines.has(key)) problems.push(`${key}: written twice`);
    lines.set(key, { fields });
    const report = tables.get(line.table) ?? { lines: 0, fields: [] };
    report.lines++;
    report.fields = [...new Set([...report.fields, ...fields.keys()])].sort();
    tables.set(line.table, report);
  }
  // every documented metric libvirt reported is written, with its value
  const reported = new Set<string>();
  for (const [k, v] of Object.entries(record)) {
    for (const { row, indexes } of readmeRowsFor(k)) {
      const key = `${row.table}|${indexes.join('|')}`;
      const field = renamed(row.field);
      reported.add(`${key}|${field}`);
      const got = lines.get(key)?.fields.get(field);
      const want = expected(row.field, v);
      if (!got) problems.push(`${k} (${row.table}.${field}): reported by libvirt, missing from the lines`);
      else if (got[0] !== want.type || got[1] !== want.value) problems.push(`${k} (${row.table}.${field}): ${got[0]} ${String(got[1])}, want ${want.type} ${String(want.value)}`);
    }
  }
  // nothing libvirt did not report (no zeros standing in for missing counters)
  for (const [key, { fields }] of lines) {
    for (const f of fields.keys()) if (!reported.has(`${key}|${f}`)) problems.push(`${key}: ${f} written but libvirt did not report it`);
  }
  return { tables, problems };
}
