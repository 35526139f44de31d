import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { WorkflowNotFoundError } from '@temporalio/client';
import { installTeam } from '../src/client/pool-client';
import { CATALOG_DIR, loadManifests } from '../src/marketplace/manifest-loader';
import { operatorTokenFile } from '../src/state-secrets';
import { axeViolations, openBrowser, screenshot } from './support/browser';
import { eventually, fastManifest, uninstallPools } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { tempDir } from './support/servers';
import { featureWorkflowId } from '../src/contracts/workflow-ids';
import { setTimeout as sleep } from 'node:timers/promises';
import { vapora } from './support/cli';

const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );

/**
 * The console in real Chromium against the real control plane (13 agent
 * processes, the offline LLM provider): what a team lead does by mouse and
 * keyboard, each page checked with axe-core and photographed.
 */
describe('the console in Chromium (real control plane, 13 agent processes)', () => {
  let plane: Awaited<ReturnType<typeof planeProcess>>;
  let browser: Browser;
  let page: Page;
  let base: string;
  let manifests: string[] = [];
  /** The feature the console starts and follows. */
  let featureId = '';
  const shots = tempDir('console-shots');
  const accessibility: Record<string, string[]> = {};
  const weights: Record<string, { kb: number; firstPaintMs: number }> = {};

  before(async () => {
    plane = await planeProcess('console');
    plane.start();
    manifests = await installTeam(plane.client, plane.taskQueue, loadManifests(CATALOG_DIR), () => undefined);
    base = `http://${plane.apiAddress}`;
    browser = await openBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    console.log(`# console screenshots in ${shots}`);
  });
  after(async () => {
    await browser?.close();
    await uninstallPools(plane.client, [...manifests, 'console-extra']);
    await plane.close();
  });

  /** Each page once: its serious and critical accessibility violations, and a screenshot. */
  const check = async (name: string, on = page) => {
    accessibility[name] = await axeViolations(on);
    await screenshot(on, shots, name);
    // What the page weighed (compressed as sent, assets included) and when it first painted: figures, not asserts.
    weights[name] = await on.evaluate<{ kb: number; firstPaintMs: number }>(`(() => {
      const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      return { kb: entries.reduce((sum, e) => sum + e.encodedBodySize, 0) / 1024, firstPaintMs: paint ? paint.startTime : -1 };
    })()`);
  };
  /** Uploads a manifest as a JSON file from the marketplace page, up to its confirmation page. */
  const checkFile = async (manifest: object) => {
    const file = join(tempDir('console-manifest'), 'manifest.json');
    writeFileSync(file, JSON.stringify(manifest));
    await page.goto(`${base}/marketplace`);
    await page.getByLabel('Manifest (YAML or JSON)').setInputFiles(file);
    await page.getByRole('button', { name: 'Check before installing' }).click();
  };
  const developers = () => page.locator('tr[data-agent^="developer-"]');

  it('shows the marketplace and fleet to anyone on loopback, and refuses changes without the token', async () => {
    await page.goto(`${base}/marketplace`);
    const roles = await page.locator('.cards article dt:text-is("Role") + dd').allTextContents();
    assert.equal(new Set(roles).size, 13, `13 roles (${roles.join(', ')})`);
    assert.equal(await page.locator('form[action$="/uninstall"]').count(), 0, 'no change offered when signed out');
    await check('marketplace-signed-out');

    const scale = await fetch(`${base}/fleet/developer/scale`, {
      method: 'POST',
      body: new URLSearchParams({ replicas: '9' }),
    });
    assert.equal(scale.status, 401);
    const tokenFile = operatorTokenFile(plane.stateDir);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600, 'the token is readable by its owner only');
    const token = readFileSync(tokenFile, 'utf8').trim();
    const cli = await vapora(['console', '--json'], plane.env);
    assert.deepEqual(JSON.parse(cli.stdout), { url: `${base}/`, token, tokenFile });
    const forged = await fetch(`${base}/fleet/developer/scale`, {
      method: 'POST',
      headers: { cookie: `vapora_session=${token}`, origin: 'http://evil.example' },
      body: new URLSearchParams({ replicas: '9' }),
    });
    assert.equal(forged.status, 403, 'a change from another origin is refused even with the cookie');
    assert.equal((await plane.registry.agents()).filter((a) => a.role === 'developer').length, 1);

    await page.goto(`${base}/login`);
    await page.getByLabel('Operator token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not the operator token').waitFor();
    await page.getByLabel('Operator token').fill(token);
    await page.keyboard.press('Enter');
    await page.getByText('Signed in.').waitFor();
    await check('fleet');
  });

  it('installs a manifest from a file after showing its dependency check', async () => {
    await checkFile(
      fastManifest('console-extra', {
        dependencies: [{ agent_id: 'architect', role: 'architect', min_version: '0.1.0' }],
      }),
    );
    await page.getByText('architect >= 0.1.0 runs').waitFor();
    await check('install-confirm');
    await page.getByLabel('Instances').fill('1');
    await page.getByRole('button', { name: /^Install console-extra 0\.1\.0/ }).click();
    await page.getByText('console-extra installed: console-extra-001').waitFor({ timeout: 60_000 });
    await page.locator('tr[data-agent="console-extra-001"]').waitFor();
  });

  it('scales developer 1 → 3 → 1 and the fleet follows', async () => {
    await page.goto(`${base}/`);
    for (const n of [3, 1]) {
      await page.getByLabel('developer instances').fill(String(n));
      await page.getByLabel('developer instances').press('Enter');
      await page.getByText(`developer: ${n} running`).waitFor({ timeout: 60_000 });
      // The fleet table is pushed again by the server as the agents come and go.
      await page.waitForFunction(`document.querySelectorAll('tr[data-agent^="developer-"]').length === ${n}`);
    }
    assert.equal(await developers().count(), 1);
  });

  it('starts a feature, follows it live to the gate, sends a rejection back to development, then approves it', async () => {
    await page.goto(`${base}/features`);
    await page.getByText('Start a feature').click();
    await page.getByLabel('Title', { exact: true }).fill('Console rate limits');
    await page.getByLabel('Description').fill('Limit each client to 100 requests a minute.');
    await page.getByLabel('Developers in parallel').fill('1');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/\/features\/console-rate-limits-/);
    featureId = new URL(page.url()).pathname.split('/').pop()!;
    await check('feature-running');
    // Reached through Server-Sent Events: the page is never reloaded here.
    await page.locator('[data-phase="awaiting-approval"]').waitFor({ timeout: 180_000 });
    assert.ok(await page.locator('.step', { hasText: 'adr' }).count(), 'the ADR step is on the timeline');
    assert.ok(
      await page.locator('details.artifact[open] .prose h1, details.artifact[open] .prose h2').count(),
      'the ADR rendered',
    );
    await check('feature-gate');

    await page.getByLabel('What must change').fill('Count per API key, not per IP');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByText('Rejected: it goes back to development.').waitFor();
    await page.getByText('rework round 1').waitFor({ timeout: 60_000 });
    await page.locator('[data-phase="awaiting-approval"]').waitFor({ timeout: 180_000 });
    await page.getByLabel('Comment').fill('Looks right now');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Approved.').waitFor();
    await page.locator('[data-phase="completed"]').waitFor({ timeout: 180_000 });
    // The console signs with the operator token it was signed in with: verified, not merely claimed.
    assert.ok(
      await page.getByText('reject by console (signed by the operator token): Count per API key, not per IP').count(),
    );
    await check('feature-completed');

    await page.goto(`${base}/features?q=console+rate`);
    assert.equal(await page.locator('tbody tr').count(), 1);
    await check('features');
  });

  it('lists the events live, filtered by feature and type', async () => {
    await page.goto(`${base}/events?type=TaskCompleted`);
    await page.locator('#events li').first().waitFor();
    const types = await page
      .locator('#events li')
      .evaluateAll((items) => items.map((i) => i.getAttribute('data-type')));
    assert.ok(types.length > 0 && types.every((t) => t === 'TaskCompleted'), types.join(', '));
    await check('events');
  });

  it('upgrades a running manifest from a file, and refuses to uninstall what others depend on unless told to', async () => {
    await checkFile(
      fastManifest('console-extra', { version: '0.2.0', docker_image: 'vapora/agents:console-extra-0.2.0' }),
    );
    await page.getByRole('button', { name: 'Upgrade console-extra to 0.2.0' }).click();
    await page.getByText('console-extra: 0.1.0 → 0.2.0, 1 instances replaced').waitFor({ timeout: 90_000 });
    assert.deepEqual(
      (await plane.registry.agents()).filter((a) => a.manifest_id === 'console-extra').map((a) => a.version),
      ['0.2.0'],
    );

    const uninstall = (id: string) => page.locator(`form[action="/marketplace/${id}/uninstall"]`);
    await uninstall('architect').getByRole('button', { name: 'Uninstall' }).click();
    await page.getByText(/architect not uninstalled: .*depend on it/).waitFor({ timeout: 30_000 });
    assert.ok(
      (await plane.registry.agents()).some((a) => a.manifest_id === 'architect'),
      'architect still runs',
    );
    await uninstall('console-extra').getByRole('button', { name: 'Uninstall' }).click();
    await page.getByText('console-extra uninstalled').waitFor({ timeout: 60_000 });
    assert.ok(!(await plane.registry.agents()).some((a) => a.manifest_id === 'console-extra'));
    await check('marketplace');
  });

  it('fits a phone: the fleet and the marketplace on a 390 px wide screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      await phone.goto(`${base}/`);
      await check('phone-fleet', phone);
      await phone.goto(`${base}/marketplace`);
      await check('phone-marketplace', phone);
      const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(overflow <= 0, `the marketplace fits the screen's width (${overflow} px too wide)`);
    } finally {
      await phone.close();
    }
  });

  it('keeps serving when a feature is deleted while its page follows it', async () => {
    const stream = await fetch(`${base}/console/stream?view=feature&feature=${featureId}`);
    assert.equal(stream.status, 200);
    const handle = plane.client.workflow.getHandle(featureWorkflowId(featureId));
    await plane.client.workflowService.deleteWorkflowExecution({
      namespace: plane.client.options.namespace,
      workflowExecution: { workflowId: handle.workflowId },
    });
    await eventually(
      'the feature deleted',
      () =>
        handle.describe().then(
          () => false,
          (error: unknown) => error instanceof WorkflowNotFoundError,
        ),
      30_000,
      250,
    );
    // The page's next render, at its next tick (5 s), finds no feature: it is tried again later, nothing more.
    await sleep(8_000);
    assert.equal((await fetch(`${base}/features`)).status, 200, 'the control plane still serves');
    await stream.body?.cancel();
  });

  it('keeps every token out of the logs', () => {
    const logs = [join(plane.stateDir, 'control-plane.log'), ...listFiles(join(plane.stateDir, 'logs'))];
    const leaks = logs.filter((file) => /\b(vop|vag|vpl)_[\w-]{8}/.test(readFileSync(file, 'utf8')));
    assert.ok(logs.length > 13, `the plane's and its agents' logs (${logs.length})`);
    assert.deepEqual(leaks, []);
  });

  it('has no serious or critical accessibility violation on any page', () => {
    console.log(
      `# page weights and first paint: ${Object.entries(weights)
        .map(([name, w]) => `${name} ${w.kb.toFixed(1)} KB, ${w.firstPaintMs.toFixed(0)} ms`)
        .join('; ')}`,
    );
    assert.deepEqual(
      Object.entries(accessibility).filter(([, v]) => v.length),
      [],
    );
    assert.ok(Object.keys(accessibility).length >= 8);
  });
});
