// The fleet page with 1,000 VMs: a private server with a bigger demo fleet; the list stays virtualised
// and a tick renders quickly.
import path from 'node:path';
import { expect, test } from '../harness/fixtures';
import { RESULTS_DIR } from '../harness/paths';
import { removeServer, startServer, type ServerState } from '../harness/server';

let big: ServerState;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  big = await startServer({ vms: 1000, stateFile: null, logFile: path.join(RESULTS_DIR, 'e2e-server-1000.log') });
});

test.afterAll(async () => {
  if (!big) return;
  await removeServer(big);
});

test('1,000 VMs: a virtualised list that keeps up with every tick', async ({ browser, shot }) => {
  test.setTimeout(120_000);
  const context = await browser.newContext({ baseURL: big.url, viewport: { width: 1360, height: 900 } });
  await context.addInitScript((t) => sessionStorage.setItem('vmpulse.token', t), big.adminToken);
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByText(/1000 VMs/)).toBeVisible({ timeout: 30_000 });

  // Only the rows in view (plus overscan) are in the DOM.
  const rendered = await page.locator('.fleet-scroll [role=row]').count();
  expect(rendered).toBeGreaterThan(10);
  expect(rendered).toBeLessThan(60);

  // Long tasks on the main thread while ticks arrive and the list scrolls.
  await page.evaluate(() => {
    (window as unknown as { __long: number[] }).__long = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) (window as unknown as { __long: number[] }).__long.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
  const scroller = page.locator('.fleet-scroll');
  for (let i = 0; i < 20; i++) {
    await scroller.evaluate((el, y) => (el.scrollTop = y), i * 1500);
    await page.waitForTimeout(150);
  }
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.locator('.fleet-scroll [role=row]').last()).toBeVisible();
  const longTasks = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
  const worst = Math.max(0, ...longTasks);
  test.info().annotations.push({ type: 'longtasks', description: `${longTasks.length} long tasks over ~3 s, worst ${Math.round(worst)} ms` });
  console.log(`1,000 VMs: ${rendered} rows in the DOM; ${longTasks.length} long tasks, worst ${Math.round(worst)} ms`);
  expect(worst).toBeLessThan(250);

  // 1,000 VMs over 8 roles = 125 each, named db-001 … db-125: 'db-0' matches db-001 … db-099.
  await page.getByLabel('Name or host').fill('db-0');
  await expect(page.getByText(/\d+ shown/)).toHaveText('99 shown');
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await shot(page, 'fleet-1000');
  await context.close();
});
