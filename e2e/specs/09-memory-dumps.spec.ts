// The Memory dumps page. On the shared test-driver server: simulated dumps (the test driver cannot
// take memory-only dumps) for the records, paging, stats and roles. On a private server watching a
// real QEMU/TCG guest: a real memory-only dump triggered on the page, its progress bar moving, the
// record, and the downloaded file's hashes computed here against the record.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Page } from '@playwright/test';
import { expectNoA11yViolationsInBothThemes } from '../harness/a11y';
import { expect, test, TOKEN_KEY } from '../harness/fixtures';
import { REPO_ROOT, RESULTS_DIR } from '../harness/paths';
import { removeServer, startServer, type ServerState } from '../harness/server';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function signIn(page: Page, token: string) {
  await page.addInitScript(([key, t]) => sessionStorage.setItem(key!, t!), [TOKEN_KEY, token]);
}

test.describe('on the test driver', () => {
  test('an operator dumps VMs from a VM page and the dumps page; records page, stats count them; a viewer only sees and downloads', async ({ signedInPage: page, server, shot }) => {
    // From the VM page: one click, its progress and its record there.
    const app01 = (await server.graphql<{ vm: { id: string } }>('{ vm(name: "app-01") { id } }')).data!.vm.id;
    await page.goto(`/vms/${app01}`);
    await page.getByRole('button', { name: 'Dump memory of app-01' }).click();
    const vmSection = page.getByRole('region', { name: 'Memory dumps' });
    await expect(vmSection.locator('[data-testid^=dump-progress-]').first()).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
    await expect(vmSection.locator('table.dump-records tbody tr')).toHaveCount(1);
    await expect(vmSection.locator('table.dump-records tbody tr')).toHaveAttribute('data-status', 'completed');
    await shot(page, 'vm-page-dumps');
    await expectNoA11yViolationsInBothThemes(page);
    await page.emulateMedia({ colorScheme: 'light' });

    await page.goto('/dumps');
    await expect(page.getByRole('heading', { name: 'Memory dumps', level: 1 })).toBeVisible();
    await expect(page.getByTestId('dump-stat-total-dumps')).toHaveText(/^\d+$/);
    const before = Number(await page.getByTestId('dump-stat-total-dumps').textContent());

    // Pick every running VM shown (12 on the demo fleet) and dump them: app-01, dumped a moment ago,
    // is refused for that VM (DUMP_MIN_INTERVAL) with its reason, the other 11 go ahead.
    await expect(page.getByRole('checkbox', { name: /web-01/ })).toBeVisible();
    await page.getByRole('button', { name: 'Select all shown' }).click();
    await expect(page.getByText('Running VMs (12 of 12 selected)')).toBeVisible();
    await page.getByRole('button', { name: 'Dump 12 selected' }).click();
    await expect(page.getByTestId('dump-trigger-result')).toContainText('app-01:');

    // Each one ends completed (simulated: the test driver's placeholder file) and is counted.
    await expect(page.getByTestId('dump-stat-total-dumps')).toHaveText(String(before + 11), { timeout: 30_000 });
    await expect(page.locator('[data-testid^=dump-progress-][data-status=completed]')).toHaveCount(5); // the 5 newest that ended
    const rows = page.locator('table.dump-records tbody tr');
    await expect(rows).toHaveCount(10); // page size
    await expect(page.getByTestId('dump-page')).toContainText(`page 1 · ${before + 11} records`);
    await shot(page, 'dumps-test-driver');
    await expectNoA11yViolationsInBothThemes(page); // with records, progress bars, the picker
    await page.emulateMedia({ colorScheme: 'light' });

    // Paging: older, then newer again; no record twice.
    const first = await rows.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-testid')));
    await page.getByRole('button', { name: 'Older' }).click();
    await expect(page.getByTestId('dump-page')).toContainText('page 2');
    await expect(rows).toHaveCount(before + 11 - 10);
    const second = await rows.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-testid')));
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    await page.getByRole('button', { name: 'Newer' }).click();
    await expect(page.getByTestId('dump-page')).toContainText('page 1');

    // A viewer sees the same records, can download, cannot trigger, cancel or verify.
    const created = await server.graphql<{ createToken: { token: string } }>('mutation { createToken(name: "e2e dump viewer", role: viewer) { token } }');
    const viewer = await page.context().browser()!.newPage();
    await signIn(viewer, created.data!.createToken.token);
    await viewer.goto(`${server.url}/dumps`);
    await expect(viewer.getByRole('note')).toContainText('Your token is a viewer');
    await expect(viewer.locator('table.dump-records tbody tr')).toHaveCount(10);
    await expect(viewer.getByRole('button', { name: /^Download/ }).first()).toBeVisible();
    await expect(viewer.getByRole('button', { name: /^(Verify|Cancel|Dump)/ })).toHaveCount(0);
    await expect(viewer.getByRole('checkbox')).toHaveCount(0);
    await viewer.close();
  });
});

test.describe('a real QEMU/TCG guest', () => {
  test.setTimeout(240_000);
  let state: ServerState | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  const name = `vmpulse-e2e-dump-${process.pid}`;

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    type GuestModule = typeof import('../../server/src/libvirt/qemu-guest');
    const g = (await import(pathToFileURL(path.join(REPO_ROOT, 'server/dist/src/libvirt/qemu-guest.js')).href)) as GuestModule;
    await g.ensureLibvirtd();
    const base = g.searchableByAll(REPO_ROOT) ? path.join(REPO_ROOT, '.vmpulse-test') : '/var/lib/libvirt/images/vmpulse-test';
    const image = await g.ensureGuestImage(path.join(base, 'guest'));
    await g.removeDomain(name);
    // 512 MiB and kdump-zlib: a dump long enough (seconds) to watch its progress bar move.
    const guest = await g.createGuest(name, { dir: path.join(base, 'guests'), image, memoryMiB: 512, ip: '10.77.9.2/24' });
    cleanup = () => guest.cleanup();
    await g.startGuest(name);
    mkdirSync(RESULTS_DIR, { recursive: true });
    state = await startServer({
      stateFile: null,
      logFile: path.join(RESULTS_DIR, 'e2e-dumps-server.log'),
      env: { LIBVIRT_URI: 'qemu:///system', DUMP_MIN_INTERVAL: '0' },
    });
  });

  test.afterAll(async () => {
    if (state) await removeServer(state);
    await cleanup?.();
  });

  test('dump it on the page: progress moves, the record appears, the download hashes match', async ({ page, shot }) => {
    await signIn(page, state!.adminToken);
    await page.goto(`${state!.url}/dumps`);
    await page.getByLabel('Filter running VMs').fill(name);
    await page.getByRole('checkbox', { name: new RegExp(name) }).check();
    await page.getByLabel('Format').selectOption('KDUMP_ZLIB');
    // Record every percent the progress bar shows, as the browser renders it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __percents: string[] }).__percents = seen;
      new MutationObserver(() => {
        for (const el of Array.from(document.querySelectorAll('[data-testid^=dump-progress-]'))) {
          const p = el.getAttribute('data-percent') ?? '';
          if (seen[seen.length - 1] !== p) seen.push(p);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-percent'] });
    });
    await page.getByRole('button', { name: 'Dump 1 selected' }).click();
    const progress = page.locator('[data-testid^=dump-progress-]').filter({ hasText: name });
    await expect(progress).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
    await expect(progress.getByTestId('dump-progress-text')).toContainText(/MB\/s · ETA/);
    await shot(page, 'dumps-real-guest-running');
    await expectNoA11yViolationsInBothThemes(page); // a live progress bar and a Cancel button
    await page.emulateMedia({ colorScheme: 'light' });
    await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 120_000 });
    await expect(progress).toHaveAttribute('data-percent', '100');

    const percents = (await page.evaluate(() => (window as unknown as { __percents: string[] }).__percents)).filter(Boolean).map(Number);
    const between = percents.filter((p) => p > 0 && p < 100);
    expect(between.length, `percents seen: ${percents.join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(percents, 'never backwards').toEqual([...percents].sort((a, b) => a - b));

    // The record: completed, with its hash; download it and hash it here.
    const row = page.locator('table.dump-records tbody tr').filter({ hasText: name }).first();
    await expect(row).toHaveAttribute('data-status', 'completed');
    const recorded = (await row.getByTestId('dump-sha256').getAttribute('data-sha256'))!;
    await shot(page, 'dumps-real-guest-done');
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /^Download/ }).click()]);
    expect(download.suggestedFilename()).toMatch(/^\d+_\d+\.mem\.gz$/);
    const file = path.join(RESULTS_DIR, 'e2e-dump.mem.gz');
    await download.saveAs(file);
    const gz = readFileSync(file);
    const raw = gunzipSync(gz);
    expect(sha256(raw)).toBe(recorded);
    expect(raw.length).toBeGreaterThan(1024 * 1024); // a real dump, not the test driver's 15-byte placeholder
    // The .gz hash the server recorded for the file (the download's header carries it too).
    const res = await fetch(`${state!.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${state!.adminToken}` },
      body: JSON.stringify({ query: `{ dumps(first: 1, filter: { vm: "${name}" }) { nodes { gzipSha256 sha256 } } }` }),
    });
    const node = ((await res.json()) as { data: { dumps: { nodes: { gzipSha256: string; sha256: string }[] } } }).data.dumps.nodes[0]!;
    expect(sha256(gz)).toBe(node.gzipSha256);

    // Verify on the page re-hashes the stored file.
    await row.getByRole('button', { name: /^Verify/ }).click();
    await expect(row.getByTestId('dump-note')).toContainText('hashes match');
  });
});
