// The dashboard's Schedules page (docs/pipeline-operations.md) in headless Chromium against a
// harness API (no worker: the schedule is a nightly cron, nothing ticks): a viewer sees the
// schedule with its next run and no controls; its creator pauses it and resumes it from the
// keyboard, then deletes it (the confirm accepted). Saves screenshots under test-output/.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { startChromium, type Chromium, openWatchedPage, screenshotAndClose } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request } from '../support/http.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-output');
const SEEN = 20_000;

describe('dashboard schedules page in headless Chromium (browser)', function () {
  this.timeout(90_000);
  let h: Harness;
  let context: BrowserContext;
  let chromium: Chromium | undefined;
  let page: Page;
  let problems: string[];
  let viewer: { key: string };
  let owner: { key: string; id: string };

  const signIn = async (key: string) => {
    await page.goto(`${h.baseUrl}/dashboard/schedules`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  before(async function () {
    this.timeout(120_000);
    // A schema of its own: every reconciler pass installs the job schedulers of the schedules in
    // its schema, so a schedule left in the shared one would tick in other files' queues.
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
    await mkdir(SCREENSHOTS, { recursive: true });
    h = await startHarness({ workers: 0, ownSchema: true });
    viewer = await h.createKey('sched-dash-viewer', ['viewer']);
    owner = await h.createKey('sched-dash-owner', ['submitter']);
    chromium = await startChromium('schedules', { viewport: { width: 1280, height: 900 } });
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
    await screenshotAndClose(page, SCREENSHOTS, 'schedules', this.currentTest?.title);
  });

  it('a viewer sees the schedule and its next run, and no controls; its creator pauses, resumes and deletes it', async () => {
    // Arrange
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/schedules',
      {
        name: 'nightly-dash',
        definition: { name: 'nightly', stages: [{ key: 'a', agent: 'noop' }] },
        cron: '0 2 * * *',
        timezone: 'Europe/Paris',
      },
      bearer(owner.key),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const row = () => page.locator(`tr[data-schedule="${created.body.id as string}"]`);

    // Act: a viewer
    await signIn(viewer.key);
    await row().waitFor({ state: 'visible', timeout: SEEN });
    // Assert
    const text = await row().innerText();
    expect(text).to.contain('nightly-dash').and.contain('active').and.contain('0 2 * * * (Europe/Paris)').and.contain('skip');
    expect(await row().getByRole('button').count()).to.equal(0);

    // Act: its creator, from the keyboard
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(owner.key);
    await row().waitFor({ state: 'visible', timeout: SEEN });
    await row().getByRole('button', { name: 'Pause nightly-dash' }).focus();
    await page.keyboard.press('Enter');
    await row().getByText('paused').waitFor({ timeout: SEEN });
    await row().getByRole('button', { name: 'Resume nightly-dash' }).focus();
    await page.keyboard.press('Enter');
    await row().getByText('active').waitFor({ timeout: SEEN });
    page.once('dialog', (dialog) => void dialog.accept());
    await row().getByRole('button', { name: 'Delete nightly-dash' }).click();
    await row().waitFor({ state: 'detached', timeout: SEEN });

    // Assert: the API agrees, and the audit trail names the creator.
    expect((await request(h.baseUrl, 'GET', `/api/v1/schedules/${created.body.id as string}`)).status).to.equal(404);
    const audit = await request(h.baseUrl, 'GET', `/api/v1/audit?targetType=schedule&targetId=${created.body.id as string}`);
    expect((audit.body.items as { action: string }[]).map((e) => e.action).reverse()).to.deep.equal([
      'schedule.created',
      'schedule.paused',
      'schedule.resumed',
      'schedule.deleted',
    ]);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it("an operator's pause: its creator sees the schedule paused with no Resume button, only Delete", async () => {
    // Arrange: the creator's schedule, paused by an operator
    const operator = await h.createKey('sched-dash-operator', ['operator']);
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/schedules',
      { name: 'held-dash', definition: { name: 'held', stages: [{ key: 'a', agent: 'noop' }] }, cron: '0 3 * * *' },
      bearer(owner.key),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    expect((await request(h.baseUrl, 'POST', `/api/v1/schedules/${id}/pause`, undefined, bearer(operator.key))).status).to.equal(200);
    const row = () => page.locator(`tr[data-schedule="${id}"]`);

    // Act
    await signIn(owner.key);
    await row().waitFor({ state: 'visible', timeout: SEEN });
    await row().getByText('paused').waitFor({ timeout: SEEN });

    // Assert: the API would answer the creator's resume 403, so the page does not offer it.
    expect(await row().getByRole('button', { name: 'Resume held-dash' }).count()).to.equal(0);
    expect(await row().getByRole('button', { name: 'Delete held-dash' }).count()).to.equal(1);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
