// Runs every test suite and ends with one line: `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'test-results');
mkdirSync(outDir, { recursive: true });

const suites = [
  {
    name: 'dependency rules (dependency-cruiser: no import cycles, imports run one way; rules in .dependency-cruiser.cjs)',
    cwd: root,
    cmd: 'pnpm',
    args: ['run', '--silent', 'deps'],
  },
  {
    name: 'lint (Biome, recommended rules; biome.jsonc)',
    cwd: root,
    cmd: 'pnpm',
    args: ['run', '--silent', 'lint'],
  },
  {
    name: 'typecheck (tsc --noEmit over server code and tests)',
    cwd: path.join(root, 'server'),
    cmd: 'pnpm',
    args: ['run', '--silent', 'typecheck'],
  },
  {
    name: 'server (vitest: unit, libvirt test driver, PostgreSQL, QEMU guest)',
    cwd: path.join(root, 'server'),
    cmd: 'pnpm',
    args: ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(outDir, 'server.json')}`],
    report: path.join(outDir, 'server.json'),
    count: (r) => ({ passed: r.numPassedTests ?? 0, failed: (r.numFailedTests ?? 0) + failedFilesWithoutFailedTests(r) }),
  },
  {
    name: 'web (vitest: formatting, fleet sorting, fixed-window series)',
    cwd: path.join(root, 'web'),
    cmd: 'pnpm',
    args: ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(outDir, 'web.json')}`],
    report: path.join(outDir, 'web.json'),
    count: (r) => ({ passed: r.numPassedTests ?? 0, failed: (r.numFailedTests ?? 0) + failedFilesWithoutFailedTests(r) }),
  },
  {
    name: 'e2e (Playwright in Debian Chromium against the built server and SPA; screenshots in test-results/screenshots)',
    cwd: path.join(root, 'e2e'),
    cmd: 'pnpm',
    args: ['exec', 'playwright', 'test'],
    report: path.join(outDir, 'e2e.json'),
    count: (r) => ({ passed: (r.stats?.expected ?? 0) + (r.stats?.flaky ?? 0), failed: r.stats?.unexpected ?? 0 }),
  },
];

// A test file that fails without a failing test (it failed to load, or a hook threw) counts once.
function failedFilesWithoutFailedTests(r) {
  return (r.testResults ?? []).filter((s) => s.status === 'failed' && !s.assertionResults?.some((a) => a.status === 'failed')).length;
}

let passed = 0;
let failed = 0;
for (const s of suites) {
  console.log(`\n=== ${s.name} ===`);
  if (s.report) rmSync(s.report, { force: true });
  const run = spawnSync(s.cmd, s.args, { cwd: s.cwd, stdio: 'inherit', env: process.env });
  if (!s.report) {
    // A suite without a report is one check.
    if (run.status === 0) passed += 1;
    else failed += 1;
  } else if (existsSync(s.report)) {
    const c = s.count(JSON.parse(readFileSync(s.report, 'utf8')));
    passed += c.passed;
    failed += c.failed;
    if (run.status !== 0 && c.failed === 0) failed += 1; // the runner failed without a failing test: count it
  } else {
    console.error(`suite "${s.name}" produced no report (exit ${run.status})`);
    failed += 1;
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
