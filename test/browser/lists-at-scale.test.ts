// The dashboard's lists on a busy installation (docs/dashboard.md#lists-longer-than-a-page), in
// headless Chromium against a harness API with a worker (the decisions and questions stay open:
// nobody answers them): 101 pending decisions, 101 open questions and 101 schedules, one more
// than the API's largest page, and a pipeline of 101 stages. Each list says it shows the first
// 100 and that there are more; Load more (from the keyboard) shows the 101st, the oldest, and
// then says every one is shown. Before, the 101st was invisible and nothing said so; the DAG of
// the pipeline drew its first 100 stages. Saves screenshots under test-output/.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { startChromium, type Chromium, openWatchedPage, screenshotAndClose } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitUntil, type Loose } from '../support/http.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-output');
const SEEN = 30_000;
/** One more than the API's largest page (`limit` 1–100). */
const MANY = 101;

describe('dashboard lists longer than a page in headless Chromium (browser)', function () {
  this.timeout(120_000);
  let h: Harness;
  let context: BrowserContext;
  let chromium: Chromium | undefined;
  let page: Page;
  let problems: string[];
  let viewer: { key: string };

  const signIn = async (path: string) => {
    await page.goto(`${h.baseUrl}${path}`);
    await page.getByLabel('API key').fill(viewer.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  /** Submits `count` pipelines made by `body(i)`, oldest first; returns their 202 bodies. */
  const submitMany = async (count: number, body: (i: number) => Loose): Promise<Loose[]> => {
    const out: Loose[] = [];
    for (let i = 0; i < count; i++) {
      const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', body(i));
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      out.push(res.body);
    }
    return out;
  };
  /** Presses Load more from the keyboard and waits for the count to say every item is shown. */
  const loadMoreFromKeyboard = async (name: string, all: string) => {
    await page.getByRole('button', { name }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: all }).waitFor({ timeout: SEEN });
    expect(await page.getByRole('button', { name }).count()).to.equal(0);
    // The button left with the last page: the focus is on the count it announced, not lost.
    expect(await page.evaluate('document.activeElement?.textContent')).to.equal(all);
  };

  before(async function () {
    this.timeout(240_000);
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
    await mkdir(SCREENSHOTS, { recursive: true });
    // A schema of its own: exactly these decisions, questions and schedules (a schedule left in
    // the shared one would tick in other files' queues).
    // 101 schedules of one owner: above the default SCHEDULE_MAX_PER_OWNER (20).
    // 101 stages in one pipeline: above the default MAX_STAGES_PER_PIPELINE (100).
    h = await startHarness({
      workers: 1,
      ownSchema: true,
      env: { SCHEDULE_MAX_PER_OWNER: String(MANY), MAX_STAGES_PER_PIPELINE: String(MANY) },
    });
    viewer = await h.createKey('lists-viewer', ['viewer']);
    chromium = await startChromium('lists-at-scale', { viewport: { width: 1280, height: 900 } });
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
    await screenshotAndClose(page, SCREENSHOTS, 'lists-at-scale', this.currentTest?.title);
  });

  it('inbox — 101 pending decisions and 101 open questions — says there are more, and Load more shows the 101st of each', async () => {
    // Arrange: data migrations wait for their decision at submission; a vague input asks its questions.
    const decided = await submitMany(MANY, (i) => ({
      name: `lists-decision-${i}`,
      input: {
        confidence: 85,
        requirements: 'Move the orders table to the new cluster with no downtime for any reader.',
        acceptanceCriteria: ['every row copied'],
      },
      stages: [{ key: 'migrate', agent: 'noop', category: 'data_migration' }],
    }));
    const asked = await submitMany(MANY, (i) => ({
      name: `lists-question-${i}`,
      input: { requirements: 'maybe' },
      stages: [{ key: 'a', agent: 'noop' }],
    }));
    // The worker's reconciler opens each decision as the stage becomes ready.
    const pending = [];
    for (const p of decided) pending.push(await waitUntil(h.baseUrl, p.id as string, (q) => (q.decisions as Loose[]).length > 0));
    const oldestDecision = (pending[0]!.decisions as Loose[])[0]!.id as string;
    const oldestQuestion = (asked[0]!.clarifications as Loose[])[0]!.id as string;
    const decisionCards = page.locator('article[data-decision]');
    const questionCard = (id: string) => page.locator(`article[aria-labelledby="clarification-${id}-title"]`);

    // Act
    await signIn('/dashboard/inbox');
    await page
      .getByRole('status')
      .filter({ hasText: 'Showing the first 100 pending decisions; there are more.' })
      .waitFor({ timeout: SEEN });
    await page.getByRole('status').filter({ hasText: 'Showing the first 100 open questions; there are more.' }).waitFor({ timeout: SEEN });
    // Assert: a page of 100, the oldest of each not among them
    expect(await decisionCards.count()).to.equal(100);
    expect(await page.locator(`article[data-decision="${oldestDecision}"]`).count()).to.equal(0);
    expect(await questionCard(oldestQuestion).count()).to.equal(0);

    // Act
    await loadMoreFromKeyboard('Load more pending decisions', `Showing all ${MANY} pending decisions.`);
    await loadMoreFromKeyboard('Load more open questions', `Showing all ${MANY} open questions.`);
    // Assert
    expect(await decisionCards.count()).to.equal(MANY);
    await page.locator(`article[data-decision="${oldestDecision}"]`).waitFor({ timeout: SEEN });
    await questionCard(oldestQuestion).waitFor({ timeout: SEEN });
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('schedules — 101 of them — says there are more, and Load more shows the 101st', async () => {
    // Arrange
    const owner = await h.createKey('lists-owner', ['submitter']);
    const ids: string[] = [];
    for (let i = 0; i < MANY; i++) {
      const res = await request(
        h.baseUrl,
        'POST',
        '/api/v1/schedules',
        { name: `lists-nightly-${i}`, definition: { name: 'nightly', stages: [{ key: 'a', agent: 'noop' }] }, cron: '0 2 * * *' },
        bearer(owner.key),
      );
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      ids.push(res.body.id as string);
    }
    const rows = page.locator('tr[data-schedule]');

    // Act
    await signIn('/dashboard/schedules');
    await page.getByRole('status').filter({ hasText: 'Showing the first 100 schedules; there are more.' }).waitFor({ timeout: SEEN });
    // Assert
    expect(await rows.count()).to.equal(100);
    expect(await page.locator(`tr[data-schedule="${ids[0]!}"]`).count()).to.equal(0);

    // Act
    await loadMoreFromKeyboard('Load more schedules', `Showing all ${MANY} schedules.`);
    // Assert
    expect(await rows.count()).to.equal(MANY);
    await page.locator(`tr[data-schedule="${ids[0]!}"]`).waitFor({ timeout: SEEN });
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('pipeline page — 101 stages, more than the pipeline answer holds — the DAG draws every stage', async () => {
    // Arrange: GET /pipelines/:id holds 100 stages at most; the 101st comes from /stages.
    const keys = Array.from({ length: MANY }, (_, i) => `s${i}`);
    const submitted = await submitMany(1, () => ({ name: 'lists-many-stages', stages: keys.map((key) => ({ key, agent: 'noop' })) }));
    const id = submitted[0]!.id as string;
    const first = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`);
    expect(first.body.stagesNextCursor, 'the answer is paged').to.be.a('string');
    // Act
    await signIn(`/dashboard/pipelines/${id}`);
    // Assert: the last stage is drawn too (before, the DAG stopped at the answer's 100).
    await page.locator('g[data-stage="s100"]').waitFor({ timeout: SEEN });
    expect(await page.locator('g[data-stage]').count()).to.equal(MANY);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
