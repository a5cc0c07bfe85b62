import { expect, test } from '../harness/fixtures';

test('a wrong token is refused with a visible message', async ({ page, shot }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in to vmpulse' })).toBeVisible();
  await page.getByLabel('API token').fill('vmp_not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('refused');
  await expect(page.getByRole('heading', { name: 'Sign in to vmpulse' })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem('vmpulse.token'))).toBeNull();
  await shot(page, 'sign-in-refused');
});

test('signing in with a valid token opens the fleet and lasts for the session', async ({ page, server, shot }) => {
  await page.goto('/');
  await page.getByLabel('API token').fill(server.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Fleet', level: 1 })).toBeVisible();
  // The badge follows serverInfo.demo (the server decides what counts as its demo fleet).
  const info = await server.graphql<{ serverInfo: { demo: boolean } }>('{ serverInfo { demo } }');
  await expect(page.locator('.app-header').getByText('Demo fleet', { exact: true })).toHaveCount(info.data!.serverInfo.demo ? 1 : 0);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Fleet', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to vmpulse' })).toBeVisible();
  await shot(page, 'sign-in');
});
