// @vitest-environment node
// Every text/background pair of the theme tokens meets WCAG 2 AA (4.5:1) in light and dark,
// including states the e2e axe run may not catch on screen (paused, stale, warning banners).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const css = readFileSync(fileURLToPath(new URL('../styles.css', import.meta.url)), 'utf8');
const tokens = (selector: string): Record<string, string> => {
  const body = css.slice(css.indexOf(selector) + selector.length).split('}')[0]!;
  return Object.fromEntries([...body.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1]!, m[2]!]));
};
const light = tokens(':root {');
const THEMES = { light, dark: { ...light, ...tokens(":root[data-theme='dark'] {") } };

// WCAG 2 relative luminance and contrast ratio.
const luminance = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
};
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

// [text, background] as styles.css pairs them.
const PAIRS: [string, string][] = [
  ['text', 'bg'], ['text', 'panel'], ['text', 'row-hover'],
  ['muted', 'bg'], ['muted', 'panel'], ['muted', 'row-hover'], ['muted', 'off-bg'],
  ['accent', 'bg'], ['accent', 'panel'], ['accent', 'row-hover'], ['accent-text', 'accent'],
  ['ok', 'ok-bg'], ['ok', 'panel'], ['off', 'off-bg'], ['off', 'panel'],
  ['warn', 'warn-bg'], ['warn', 'panel'], ['err', 'err-bg'], ['err', 'panel'],
];

describe('theme tokens', () => {
  for (const [theme, t] of Object.entries(THEMES)) {
    it(`${theme}: every text/background pair reaches 4.5:1`, () => {
      const low = PAIRS.map(([fg, bg]) => ({ fg, bg, ratio: contrast(t[fg]!, t[bg]!) })).filter((p) => !(p.ratio >= 4.5));
      expect(low).toEqual([]);
    });
  }
  it('the check itself sees a failing pair', () => {
    expect(contrast('#17825e', '#e3f5ee')).toBeLessThan(4.5); // the old light "running" badge
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
  });
});
