import { expect, test } from '../harness/fixtures';

test('after the server restarts, the page reconnects by itself and live data resumes', async ({ signedInPage: page, server, shot }) => {
  test.setTimeout(120_000);
  const r = await server.graphql<{ vm: { id: string } }>('{ vm(name: "web-02") { id } }');
  await page.goto(`/vms/${r.data!.vm.id}`);
  const chart = page.getByTestId('chart-cpu');
  const points = async () => Number(await chart.getAttribute('data-points'));
  await expect.poll(points).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('live-indicator')).toHaveText('Live');

  const restarted = server.restart({ downMs: 2000 });
  const banner = page.getByTestId('reconnecting-banner');
  await expect(banner).toBeVisible({ timeout: 20_000 });
  await expect(banner).toContainText('reconnecting');
  await shot(page, 'vm-reconnecting');
  await restarted;

  await expect(banner).toBeHidden({ timeout: 20_000 });
  await expect(page.getByTestId('live-indicator')).toHaveText('Live');
  const resumedAt = await points();
  await expect.poll(points, { timeout: 15_000 }).toBeGreaterThanOrEqual(Math.min(resumedAt + 2, 300));
  await shot(page, 'vm-after-restart');
});
