import { expect, test } from '../harness/fixtures';

test('stop and start the collector from its page; the status flips live', async ({ signedInPage: page, shot }) => {
  await page.goto('/collector');
  await expect(page.getByRole('heading', { name: 'Collector', level: 1 })).toBeVisible();
  const state = page.getByTestId('collector-state');
  await expect(state).toHaveText('running');
  await expect(page.getByRole('table', { name: 'Collector status per host' })).toContainText('demo');
  await expect(page.getByRole('heading', { name: 'Configuration (secrets masked)' })).toBeVisible();
  await expect(page.locator('pre.config')).toContainText('"VMPULSE_ADMIN_TOKEN": "***"');
  await shot(page, 'collector');

  await page.getByRole('button', { name: 'Stop collector' }).click();
  await expect(state).toHaveText('stopped');
  const ticks = await page.getByTestId('collector-ticks').textContent();
  await page.waitForTimeout(2500);
  await expect(page.getByTestId('collector-ticks')).toHaveText(ticks!);
  await shot(page, 'collector-stopped');

  await page.getByRole('button', { name: 'Start collector' }).click();
  await expect(state).toHaveText('running');
  await expect.poll(async () => Number(await page.getByTestId('collector-ticks').textContent())).toBeGreaterThan(Number(ticks));
});

test('a viewer cannot control the collector and is told so', async ({ browser, server, baseURL }) => {
  const created = await server.graphql<{ createToken: { token: string } }>('mutation { createToken(name: "e2e viewer", role: viewer) { token } }');
  const viewerToken = created.data!.createToken.token;
  const context = await browser.newContext({ baseURL });
  await context.addInitScript((t) => sessionStorage.setItem('vmpulse.token', t), viewerToken);
  const page = await context.newPage();
  await page.goto('/collector');
  await expect(page.getByTestId('collector-state')).toHaveText('running');
  await expect(page.getByRole('button', { name: 'Stop collector' })).toBeDisabled();
  await expect(page.getByRole('note')).toContainText('needs an operator or admin token');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tokens' })).toHaveCount(0);
  // The server refuses it too, whatever the page shows.
  const res = await page.request.post('/graphql', {
    headers: { authorization: `Bearer ${viewerToken}`, 'content-type': 'application/json' },
    data: { query: 'mutation { stopCollector { running } }' },
  });
  expect((await res.json()).errors[0].extensions.code).toBe('FORBIDDEN');
  await expect(page.getByTestId('collector-state')).toHaveText('running');
  await page.goto('/tokens');
  await expect(page.getByRole('alert')).toContainText('needs an admin token');
  await context.close();
});
