// Re-run from a stage on the pipeline dashboard, in headless Chromium against a harness API with a
// worker: the "Re-run" control is shown to the pipeline's submitter and not to a viewer, works from
// the keyboard and opens the new pipeline, which links back to the old one ("Re-run of") and says
// which stage it reused; the old pipeline lists its re-run; a stage's "Re-run from …" re-runs
// from that stage. Saves screenshots under test-output/. Needs /usr/bin/chromium.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { startChromium, type Chromium, openWatchedPage, screenshotAndClose } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, type Loose } from '../support/http.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-output');
const SEEN = 20_000;

describe('re-run from a stage on the dashboard (browser)', function () {
  this.timeout(90_000);

  let h: Harness;
  let context: BrowserContext;
  let chromium: Chromium | undefined;
  let viewer: { key: string };
  let owner: { key: string; id: string };
  let problems: string[];
  let page: Page;
  let failed: Loose;

  const signIn = async (key: string) => {
    await page.goto(`${h.baseUrl}/dashboard`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.who').waitFor({ timeout: SEEN });
  };

  before(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
    await mkdir(SCREENSHOTS, { recursive: true });
    h = await startHarness({ workers: 1 });
    viewer = await h.createKey('rerun-dash-viewer', ['viewer']);
    owner = await h.createKey('rerun-dash-owner', ['submitter']);
    // The pipeline the tests re-run: `build` succeeds, `check` fails.
    const res = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      {
        name: `dash-rerun-${Date.now()}`,
        stages: [
          { key: 'build', agent: 'noop', input: { built: true } },
          { key: 'check', agent: 'fail', dependsOn: ['build'], retry: { attempts: 1 } },
        ],
      },
      bearer(owner.key),
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    failed = await waitForPipeline(h.baseUrl, res.body.id as string);
    expect(failed.status).to.equal('failed');
    chromium = await startChromium('rerun', { viewport: { width: 1280, height: 900 } });
    context = chromium.context;
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  beforeEach(async () => {
    problems = [];
    page = await openWatchedPage(context, problems);
  });
  afterEach(async function () {
    await screenshotAndClose(page, SCREENSHOTS, 'rerun', this.currentTest?.title);
  });

  it('a viewer — sees no re-run control on a finished pipeline', async () => {
    await signIn(viewer.key);
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${failed.id}`);
    await page.locator('#pipeline-title').waitFor({ timeout: SEEN });
    await page.locator('g[data-stage="check"]').waitFor({ timeout: SEEN });
    expect(await page.getByRole('button', { name: /^Re-run/ }).count()).to.equal(0);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('the submitter — Re-run from the keyboard — opens the new pipeline, linked both ways, its reused stage said so', async () => {
    await signIn(owner.key);
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${failed.id}`);
    const button = page.getByRole('button', { name: 'Re-run', exact: true });
    await button.waitFor({ timeout: SEEN });

    // Act: focus and Enter.
    await button.focus();
    await page.keyboard.press('Enter');

    // Assert: the new pipeline's page, linking back to the old one.
    await page.waitForURL((url) => url.pathname.startsWith('/dashboard/pipelines/') && !url.pathname.includes(failed.id as string), {
      timeout: SEEN,
    });
    const newId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const back = page.locator('dd a', { hasText: failed.id as string });
    await back.waitFor({ timeout: SEEN });
    expect(await page.locator('dd', { hasText: failed.id as string }).innerText()).to.contain('from check');
    const reusedNode = page.locator('g[data-stage="build"]');
    expect(await reusedNode.getAttribute('aria-label')).to.equal('Stage build (noop): succeeded, reused from an earlier run');
    expect(await reusedNode.locator('.node-status').textContent()).to.contain('(reused)');
    await reusedNode.focus();
    await page.keyboard.press('Enter');
    await page.locator('.reused-note').waitFor({ timeout: SEEN });
    expect(await page.locator('.reused-note').innerText()).to.contain(`pipeline ${(failed.id as string).slice(0, 8)}`);
    const created = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${newId}`)).body;
    expect(created.rerunOf).to.equal(failed.id);
    expect(created.submitter).to.equal(owner.id);

    // The old pipeline lists its re-run.
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${failed.id}`);
    await page.getByRole('list', { name: 'Re-runs of this pipeline' }).locator('a', { hasText: newId }).waitFor({ timeout: SEEN });
    expect(problems, problems.join('\n')).to.deep.equal([]);
    await waitForPipeline(h.baseUrl, newId);
  });

  it('the submitter — a stage’s "Re-run from build" — re-runs from that stage (nothing reused)', async () => {
    await signIn(owner.key);
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${failed.id}`);
    await page.locator('g[data-stage="build"]').waitFor({ timeout: SEEN });
    await page.locator('g[data-stage="build"]').focus();
    await page.keyboard.press('Enter');
    const button = page.getByRole('button', { name: 'Re-run from build' });
    await button.waitFor({ timeout: SEEN });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname.startsWith('/dashboard/pipelines/') && !url.pathname.includes(failed.id as string), {
      timeout: SEEN,
    });
    const newId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const created = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${newId}`)).body;
    expect(created.rerunFrom).to.deep.equal(['build']);
    expect((created.stages as Loose[]).map((s) => s.reused)).to.deep.equal([null, null]);
    expect(problems, problems.join('\n')).to.deep.equal([]);
    await waitForPipeline(h.baseUrl, newId);
  });
});
