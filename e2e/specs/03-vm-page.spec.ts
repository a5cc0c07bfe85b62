import type { Page } from '@playwright/test';
import { expect, test } from '../harness/fixtures';

async function vmId(server: { graphql: <T>(q: string) => Promise<{ data?: T }> }, name: string): Promise<string> {
  const r = await server.graphql<{ vm: { id: string } }>(`{ vm(name: "${name}") { id } }`);
  return r.data!.vm.id;
}

const points = async (page: Page, chart: string) => Number(await page.getByTestId(chart).getAttribute('data-points'));

test('live chart points arrive over the WebSocket, with no repeated HTTP polling', async ({ signedInPage: page, server, network, shot }) => {
  const id = await vmId(server, 'web-01');
  await page.goto(`/vms/${id}`);
  await expect(page.getByRole('heading', { name: 'web-01', level: 2 })).toBeVisible();
  await expect.poll(() => points(page, 'chart-cpu')).toBeGreaterThanOrEqual(2);

  const t0 = Date.now();
  const before = await points(page, 'chart-cpu');
  await page.waitForTimeout(5500);
  const after = await points(page, 'chart-cpu');
  expect(after - before).toBeGreaterThanOrEqual(3);

  // Data came over the WebSocket; after the page's one-shot queries, not one GraphQL POST.
  expect(network.websockets.some((u) => u.endsWith('/graphql'))).toBe(true);
  expect(network.graphqlHttp(t0)).toEqual([]);
  const oneShot = network.graphqlHttp().map((e) => JSON.parse(e.body ?? '{}').operationName as string);
  expect(oneShot.length, oneShot.join(', ')).toBeLessThanOrEqual(4); // server info, VM list, VM header, its memory dumps
  expect(new Set(oneShot).size).toBe(oneShot.length); // each one-shot query once

  // The seed's metrics with units: ns as seconds, KB memory as bytes units, N/A where missing.
  await expect(page.locator('[data-metric=timeusr]')).toHaveText(/^[\d,]+\.\d\d s$/);
  await expect(page.locator('[data-metric=memactual]')).toHaveText(/^[\d.]+ (KB|MB|GB|TB)$/);
  await expect(page.locator('[data-metric=net_rxbytes]')).toHaveText(/^[\d.]+ (B|KB|MB|GB|TB)$/);
  await expect(page.locator('[data-metric=disk_rd_req]')).toHaveText(/^[\d,]+$|^N\/A$/);
  await expect(page.locator('[data-metric]')).toHaveCount(27);
  await shot(page, 'vm-page');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await shot(page, 'vm-page-dark');
});

test('a shut-off VM shows N/A for the metrics it cannot report', async ({ signedInPage: page, server }) => {
  const id = await vmId(server, 'queue-01');
  await page.goto(`/vms/${id}`);
  await expect(page.getByRole('heading', { name: 'queue-01', level: 2 })).toBeVisible();
  await expect(page.locator('[data-metric=net_rxbytes]')).toHaveText('N/A');
});

test('/resource-monitoring opens the VM selector and metrics, as the seed page did', async ({ signedInPage: page, shot }) => {
  await page.goto('/resource-monitoring');
  await expect(page.getByRole('heading', { name: 'VM metrics', level: 1 })).toBeVisible();
  const select = page.getByLabel('Virtual machine');
  await expect(select.locator('option', { hasText: 'cache-01' })).toHaveCount(1);
  await select.selectOption({ label: (await select.locator('option', { hasText: 'cache-01' }).textContent())! });
  await expect(page).toHaveURL(/\/resource-monitoring\?vm=/);
  await expect(page.getByRole('heading', { name: 'cache-01', level: 2 })).toBeVisible();
  await expect.poll(() => points(page, 'chart-network-bytes-s')).toBeGreaterThanOrEqual(2);
  await shot(page, 'resource-monitoring');
});

test('a history range shows stored points with the live tail joined on', async ({ signedInPage: page, server, shot }) => {
  const id = await vmId(server, 'web-01');
  // Wait until the store holds some history (when this spec runs alone, right after the start).
  await expect
    .poll(async () => (await server.graphql<{ vm: { history: { points: unknown[] } } }>(`{ vm(id: "${id}") { history(input: { range: LAST_15_MINUTES }) { points { timestamp } } } }`)).data?.vm.history.points.length ?? 0, { timeout: 20_000 })
    .toBeGreaterThan(0);
  await page.goto(`/vms/${id}`);
  await expect(page.getByRole('heading', { name: 'web-01', level: 2 })).toBeVisible();
  await page.getByRole('button', { name: '15m' }).click();
  await expect(page.getByRole('button', { name: '15m' })).toHaveAttribute('aria-pressed', 'true');
  const status = page.getByTestId('history-status');
  await expect(status).toContainText('stored points');
  expect(Number(await status.getAttribute('data-stored-points'))).toBeGreaterThan(0);
  const stored = Number(await status.getAttribute('data-stored-points'));
  await expect.poll(() => points(page, 'chart-cpu')).toBeGreaterThan(stored);
  await shot(page, 'vm-history-15m');
});
