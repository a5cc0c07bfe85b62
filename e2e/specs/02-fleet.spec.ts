import type { Page } from '@playwright/test';
import { expect, test } from '../harness/fixtures';

const ROLES = ['web', 'db', 'cache', 'app', 'build', 'queue', 'search', 'mon'];
const DEMO_NAMES = ROLES.flatMap((r) => [`${r}-01`, `${r}-02`]);

async function cpuColumn(page: Page): Promise<(number | null)[]> {
  const texts = await page.locator('.fleet-scroll [role=row] [data-col=cpu] .meter-value').allTextContents();
  return texts.map((t) => (t.trim() === 'N/A' ? null : Number.parseFloat(t)));
}

function isOrdered(values: (number | null)[], dir: 'asc' | 'desc'): boolean {
  const nums = values.filter((v): v is number => v !== null);
  const firstNull = values.indexOf(null);
  if (firstNull !== -1 && values.slice(firstNull).some((v) => v !== null)) return false; // missing values sort last
  return nums.every((v, i) => i === 0 || (dir === 'desc' ? nums[i - 1]! >= v : nums[i - 1]! <= v));
}

test('the fleet lists the demo VMs live, sorted by CPU, and filters', async ({ signedInPage: page, shot }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Fleet', level: 1 })).toBeVisible();
  await expect(page.getByText(/16 VMs/)).toBeVisible();
  const rows = page.locator('.fleet-scroll [role=row]');
  await expect(rows).toHaveCount(16);
  const names = await page.locator('.fleet-scroll [role=row]').evaluateAll((els) => els.map((e) => e.getAttribute('data-vm')));
  expect(names.sort()).toEqual([...DEMO_NAMES].sort());

  // Top consumers first by default, and the running VMs report CPU.
  await expect(page.getByRole('columnheader', { name: 'Sort by CPU' })).toHaveAttribute('aria-sort', 'descending');
  await expect.poll(async () => (await cpuColumn(page)).filter((v) => v !== null).length).toBeGreaterThanOrEqual(12);
  expect(isOrdered(await cpuColumn(page), 'desc')).toBe(true);
  await shot(page, 'fleet');
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await shot(page, 'fleet-dark');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();

  await page.getByRole('button', { name: 'Sort by CPU' }).click();
  await expect(page.getByRole('columnheader', { name: 'Sort by CPU' })).toHaveAttribute('aria-sort', 'ascending');
  expect(isOrdered(await cpuColumn(page), 'asc')).toBe(true);

  await page.getByLabel('Name or host').fill('web-');
  await expect(rows).toHaveCount(2);
  await page.getByLabel('Name or host').fill('');
  await page.getByLabel('State', { exact: true }).selectOption('shutoff');
  await expect(rows).toHaveCount(4);
  await shot(page, 'fleet-filtered');

  await page.getByLabel('State', { exact: true }).selectOption('');
  // Owners from the demo fleet's OpenNebula metadata: bob (finance) owns every third VM from the second.
  await page.getByLabel('Owner', { exact: true }).selectOption('bob (finance)');
  await expect(rows).toHaveCount(5);
  const bobs = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-vm')));
  expect(bobs.sort()).toEqual(['build-01', 'cache-02', 'db-01', 'mon-01', 'queue-02']);
  await expect(rows.first()).toContainText('bob (finance)');
  await page.getByLabel('Owner', { exact: true }).selectOption('');
  await page.locator('.fleet-scroll').getByRole('link', { name: 'db-01' }).click();
  await expect(page).toHaveURL(/\/vms\//);
  await expect(page.getByRole('heading', { name: 'db-01', level: 2 })).toBeVisible();
});
