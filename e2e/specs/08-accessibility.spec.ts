// Every page of the dashboard passes axe-core's WCAG 2 A/AA rules, in the light and the dark theme.
// No rule is disabled: a violation is fixed in the SPA.
import type { Page } from '@playwright/test';
import { expectNoA11yViolations } from '../harness/a11y';
import { expect, test, TOKEN_KEY } from '../harness/fixtures';

const THEMES = ['light', 'dark'] as const;

interface PageCase {
  name: string;
  /** path to open, or a function of the server returning it */
  path: string | ((vmId: (name: string) => Promise<string>) => Promise<string>);
  /** what must be on screen (and settled) before axe runs */
  ready: (page: Page) => Promise<void>;
  signedIn?: boolean;
}

const heading = (name: string | RegExp, level = 1) => async (page: Page) => {
  await expect(page.getByRole('heading', { name, level })).toBeVisible();
};

const PAGES: PageCase[] = [
  { name: 'sign-in', path: '/', signedIn: false, ready: heading('Sign in to vmpulse') },
  {
    name: 'fleet',
    path: '/',
    ready: async (page) => {
      await heading('Fleet')(page);
      await expect(page.locator('.fleet-scroll [role=row]')).toHaveCount(16);
      await expect.poll(() => page.locator('.fleet-scroll [data-col=cpu] .meter-value').filter({ hasText: '%' }).count()).toBeGreaterThan(4);
    },
  },
  {
    name: 'vm',
    path: async (vmId) => `/vms/${await vmId('web-01')}`,
    ready: async (page) => {
      await heading('web-01', 2)(page);
      await expect.poll(async () => Number(await page.getByTestId('chart-cpu').getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
    },
  },
  {
    name: 'vm-shutoff',
    path: async (vmId) => `/vms/${await vmId('queue-01')}`,
    ready: heading('queue-01', 2),
  },
  { name: 'resource-monitoring', path: '/resource-monitoring', ready: heading('VM metrics') },
  {
    name: 'collector',
    path: '/collector',
    ready: async (page) => {
      await heading('Collector')(page);
      await expect(page.getByRole('table').first()).toBeVisible();
    },
  },
  { name: 'tokens', path: '/tokens', ready: async (page) => {
    await heading('Tokens')(page);
    await expect(page.getByRole('table')).toBeVisible();
  } },
  {
    name: 'dumps',
    path: '/dumps',
    ready: async (page) => {
      await heading('Memory dumps')(page);
      await expect(page.getByRole('checkbox').first()).toBeVisible();
    },
  },
  { name: 'migrations', path: '/migrations', ready: heading('Migrations') },
  { name: 'not-found', path: '/no-such-page', ready: heading(/not found/i) },
];

for (const theme of THEMES) {
  for (const pc of PAGES) {
    test(`${pc.name} (${theme}) has no WCAG 2.1 A/AA violation`, async ({ page: p, server, shot }) => {
      if (pc.signedIn !== false) await p.addInitScript(([key, token]) => sessionStorage.setItem(key!, token!), [TOKEN_KEY, server.adminToken]);
      await p.emulateMedia({ colorScheme: theme, reducedMotion: 'reduce' });
      const vmId = async (name: string) => (await server.graphql<{ vm: { id: string } }>(`{ vm(name: "${name}") { id } }`)).data!.vm.id;
      await p.goto(typeof pc.path === 'string' ? pc.path : await pc.path(vmId));
      await expect(p.locator('html')).toHaveAttribute('data-theme', theme);
      await pc.ready(p);
      await shot(p, `a11y-${pc.name}-${theme}`);
      await expectNoA11yViolations(p);
    });
  }
}
