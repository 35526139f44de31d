import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AxeResults } from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { which } from '../../src/stack/executables';

/** Debian's Chromium (playwright-core downloads no browser of its own). */
function chromiumPath(): string {
  const path = which('chromium', ['/usr/bin']);
  if (!path) throw new Error('Chromium was not found: install it with `npx vapora provision --browser`');
  return path;
}

/** A headless Chromium that stays off the network: this machine has none, and it would retry refused connections. */
export function openBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const axeSource = () => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page, one line each. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource() });
  // A string, as the project's TypeScript has no DOM types for a function run in the page.
  const { violations } = await page.evaluate<AxeResults>('axe.run(document)');
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => {
      const targets = v.nodes.slice(0, 3).map((node) => node.target.join(' '));
      return `${v.id} (${v.impact}): ${v.help} — ${targets.join(', ')}`;
    });
}

/** A full-page PNG at `dir/name.png`; returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
