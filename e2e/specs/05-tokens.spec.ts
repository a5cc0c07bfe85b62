import { expect, test } from '../harness/fixtures';

test('an admin creates a token (shown once) and revokes it', async ({ signedInPage: page, server, shot }) => {
  await page.goto('/tokens');
  await expect(page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();
  await page.getByLabel('Name').fill('e2e grafana');
  await page.getByLabel('Role').selectOption('operator');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.getByTestId('created-token');
  await expect(secret).toHaveText(/\S{16,}/);
  const token = (await secret.textContent())!;
  const row = page.getByRole('row', { name: /e2e grafana/ });
  await expect(row).toContainText('operator');
  await expect(row).toContainText('active');
  await shot(page, 'tokens');

  // The new token works until it is revoked.
  expect((await server.graphql('{ serverInfo { version } }', {}, token)).errors).toBeUndefined();
  await row.getByRole('button', { name: 'Revoke token e2e grafana' }).click();
  await row.getByRole('button', { name: 'Confirm revoke' }).click();
  await expect(row).toContainText('revoked');
  const after = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ serverInfo { version } }' }),
  });
  expect(after.status).toBe(401);

  await page.getByRole('button', { name: 'Done' }).click();
  await expect(secret).toHaveCount(0);
});

test('an admin creates a token scoped to an owner; signed in with it, the fleet shows only that owner\'s VMs', async ({ signedInPage: page, server, browser }) => {
  await page.goto('/tokens');
  await page.getByLabel('Name').fill('e2e alice');
  await page.getByLabel('Owner user').fill('alice');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('created-token').textContent())!;
  await expect(page.getByRole('row', { name: /e2e alice/ })).toContainText('user alice');

  const context = await browser.newContext({ baseURL: server.url });
  await context.addInitScript((t) => sessionStorage.setItem('vmpulse.token', t), token);
  const scoped = await context.newPage();
  await scoped.goto('/');
  const rows = scoped.locator('.fleet-scroll [role=row]');
  await expect(rows).toHaveCount(6);
  const names = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-vm')));
  expect(names.sort()).toEqual(['app-01', 'build-02', 'db-02', 'mon-02', 'search-01', 'web-01']);
  await context.close();
});
