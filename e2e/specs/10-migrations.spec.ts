// The Migrations pages follow `npm run replay` live: the context appears, its current job's bar
// moves, the failure and the retry are counted, the cutover ends it failed_over. Everything arrives
// on the WebSocket subscription: no GraphQL request over HTTP while the replay runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expectNoA11yViolationsInBothThemes } from '../harness/a11y';
import { expect, test } from '../harness/fixtures';
import { REPO_ROOT } from '../harness/paths';

function replay(url: string, token: string, vm: string, speed: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'server/dist/src/cli/replay.js'), '--url', url, '--token', token, '--vm', vm, '--speed', String(speed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b));
    child.stderr.on('data', (b: Buffer) => (output += b));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

test('the Migrations page and a context page follow a replay live', async ({ signedInPage: page, server, network, shot }) => {
  test.setTimeout(120_000);
  const vm = `e2e-replay-${process.pid}`;
  await page.goto('/migrations');
  await expect(page.getByRole('heading', { name: 'Migrations', level: 1 })).toBeVisible();
  await expect(page.getByTestId('migrations-count')).toContainText(/contexts? ·/);
  // Every percent the context's job bar shows, as the browser renders it.
  await page.evaluate((name) => {
    const seen: string[] = [];
    (window as unknown as { __seen: string[] }).__seen = seen;
    new MutationObserver(() => {
      const el = document.querySelector(`[data-testid=migration-context][data-vm="${name}"] [data-testid=job-progress]`);
      if (!el) return;
      const v = `${el.getAttribute('data-job')}:${el.getAttribute('data-percent')}`;
      if (seen[seen.length - 1] !== v) seen.push(v);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }, vm);
  const since = Date.now();
  const run = replay(server.url, server.adminToken, vm, 6);

  const item = page.locator(`[data-testid=migration-context][data-vm="${vm}"]`);
  await expect(item).toBeVisible({ timeout: 20_000 });
  await expect(item).toHaveAttribute('data-status', 'replicating');
  await expect(item.getByTestId('job-progress-text')).toContainText(/ETA/);
  await expect(item.getByText('replayed')).toBeVisible();
  await shot(page, 'migrations-live');
  await expectNoA11yViolationsInBothThemes(page);
  await page.emulateMedia({ colorScheme: 'light' });

  const { code, output } = await run;
  expect(code, output).toBe(0);
  await expect(item).toHaveAttribute('data-status', 'failed_over', { timeout: 15_000 });
  await expect(item).toContainText('5 jobs · 4 ok · 1 failed');

  // The bar moved: several percents strictly between 0 and 100 on one job, never backwards within it.
  const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
  const byJob = new Map<string, number[]>();
  for (const s of seen) {
    const [job, pct] = [s.slice(0, s.lastIndexOf(':')), Number(s.slice(s.lastIndexOf(':') + 1))];
    byJob.set(job, [...(byJob.get(job) ?? []), pct]);
  }
  const moving = [...byJob.values()].filter((ps) => ps.filter((p) => p > 0 && p < 100).length >= 2);
  expect(moving.length, seen.join(' ')).toBeGreaterThanOrEqual(1);
  for (const ps of byJob.values()) expect(ps).toEqual([...ps].sort((a, b) => a - b));
  // Live by subscription only: nothing went over HTTP to /graphql while the replay ran.
  expect(network.graphqlHttp(since)).toEqual([]);

  // The context page: steps, per-disk bars, history, the CBT chart.
  await item.getByRole('link', { name: vm }).click();
  await expect(page).toHaveURL(new RegExp(`/migrations/${vm}$`));
  await expect(page.getByRole('heading', { name: `Migration of ${vm}`, level: 1 })).toBeVisible();
  await expect(page.getByTestId('context-jobs')).toHaveText('5 run · 4 ok · 1 failed');
  const steps = page.getByTestId('job-steps').locator(':scope > li');
  await expect(steps).toHaveText([/^Initialize/, /^CBT sync/, /^Disk transfer/, /^Cutover/, /^Finalize/]);
  for (const li of await steps.all()) await expect(li).toHaveAttribute('data-state', 'completed');
  await expect(page.getByTestId('disks-bars').locator('li')).toHaveCount(2);
  for (const li of await page.getByTestId('disks-bars').locator('li').all()) await expect(li).toHaveAttribute('data-percent', '100');
  const history = page.getByTestId('job-history').locator('tbody tr');
  await expect(history).toHaveCount(5); // no job runs now: all five are history
  await expect(history.filter({ hasText: 'replayed failure' })).toHaveCount(1);
  expect(Number(await page.getByTestId('cbt-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(8);
  await shot(page, 'migration-context');
  await expectNoA11yViolationsInBothThemes(page);
});

test('a context page follows a replay from its start', async ({ signedInPage: page, server, shot }) => {
  test.setTimeout(120_000);
  const vm = `e2e-replay-ctx-${process.pid}`;
  // Create the context first (the replay's first report), then watch its page while the jobs run.
  const run = replay(server.url, server.adminToken, vm, 6);
  await expect.poll(async () => (await server.graphql<{ migrationContext: { contextId: string } | null }>(`{ migrationContext(vmName: "${vm}") { contextId } }`)).data?.migrationContext, { timeout: 20_000 }).toBeTruthy();
  await page.goto(`/migrations/${vm}`);
  const running = page.getByTestId('job-steps').locator(':scope > li[data-state=running]');
  await expect(running).toHaveCount(1, { timeout: 20_000 });
  await expect(page.getByTestId('step-2-bars').or(page.getByTestId('disks-bars'))).toBeVisible();
  const firstDisk = page.getByTestId('disks-bars').locator('li').first();
  await expect.poll(async () => Number(await firstDisk.getAttribute('data-percent')), { timeout: 20_000 }).toBeGreaterThan(0);
  await shot(page, 'migration-context-live');
  const { code, output } = await run;
  expect(code, output).toBe(0);
  await expect(page.getByTestId('context-status')).toContainText('failed_over', { timeout: 15_000 });
});
