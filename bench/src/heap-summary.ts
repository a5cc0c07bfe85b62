// What a V8 heap snapshot holds, summed by constructor/kind, and how later snapshots differ from the
// first: `pnpm --filter @vmpulse/bench heap-summary A.heapsnapshot B.heapsnapshot …` (the bench writes
// them with --heap-snapshots DIR: after warm-up, during the subscribers' window, during REST load).
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** self size and count per "type name" (objects by constructor, strings, arrays, code, …) */
function summarise(file: string): Map<string, { bytes: number; count: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const [TYPE, NAME, SIZE] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + TYPE]!]!;
    // strings and code are many distinct names: one bucket per type
    const name = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${s.strings[s.nodes[i + NAME]!]!.slice(0, 60)}` : type;
    const e = out.get(name) ?? { bytes: 0, count: 0 };
    e.bytes += s.nodes[i + SIZE]!;
    e.count++;
    out.set(name, e);
  }
  return out;
}

const files = process.argv.slice(2).filter((a) => a !== '--');
if (!files.length) throw new Error('usage: heap-summary.ts FILE.heapsnapshot [FILE …]');
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
let first: Map<string, { bytes: number; count: number }> | undefined;
for (const file of files) {
  const sum = summarise(file);
  const total = [...sum.values()].reduce((a, e) => a + e.bytes, 0);
  console.log(`\n${path.basename(file)}: ${mib(total)} MiB live (self sizes)`);
  const rows = [...sum.entries()].map(([k, e]) => ({ k, ...e, delta: e.bytes - (first?.get(k)?.bytes ?? 0), dCount: e.count - (first?.get(k)?.count ?? 0) }));
  const top = first ? rows.sort((a, b) => b.delta - a.delta).slice(0, 20) : rows.sort((a, b) => b.bytes - a.bytes).slice(0, 25);
  for (const r of top) console.log(`  ${mib(r.bytes).padStart(7)} MiB ${String(r.count).padStart(8)}${first ? `  Δ ${mib(r.delta).padStart(6)} MiB ${String(r.dCount).padStart(7)}` : ''}  ${r.k}`);
  first ??= sum;
}
