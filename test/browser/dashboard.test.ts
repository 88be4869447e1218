// The pipeline dashboard (docs/dashboard.md) in headless Chromium against a harness API with a
// worker: sign-in shows the role, a wrong key is refused with the API's message, a running
// pipeline finishes on the list without a reload, its DAG opens with the stage labels, and the
// inbox approves one decision (the pipeline succeeds) and rejects another (it fails). Each test
// saves a screenshot under test-output/. Needs /usr/bin/chromium (Debian `chromium`).
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
const SEEN = 20_000;

describe('pipeline dashboard in headless Chromium (browser)', function () {
  this.timeout(90_000);

  let h: Harness;
  let context: BrowserContext;
  let chromium: Chromium | undefined;
  let viewer: { key: string; name: string };
  let manager: { key: string; name: string };
  /** Console and page errors per test: any CSP violation or uncaught error fails it. */
  let problems: string[];
  let page: Page;

  const submit = async (body: Loose): Promise<string> => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body.id as string;
  };

  const signIn = async (key: string) => {
    await page.goto(`${h.baseUrl}/dashboard`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  const pendingDecision = async (pipelineId: string): Promise<string> => {
    const waiting = await waitUntil(h.baseUrl, pipelineId, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    return (waiting.decisions as Loose[]).find((d) => d.status === 'pending')!.id as string;
  };

  before(async () => {
    // The build the API serves (as `npm test`'s pretest does): from this tree's sources.
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
    await mkdir(SCREENSHOTS, { recursive: true });
    h = await startHarness({ workers: 1 });
    viewer = await h.createKey('dash-viewer', ['viewer']);
    manager = await h.createKey('dash-em', ['approver', 'engineering_manager']);
    chromium = await startChromium('dashboard', { viewport: { width: 1280, height: 900 } });
    context = chromium.context;
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  beforeEach(async () => {
    problems = [];
    // A new tab per test: sessionStorage, where the key is kept, starts empty.
    page = await openWatchedPage(context, problems);
  });
  afterEach(async function () {
    await screenshotAndClose(page, SCREENSHOTS, 'dashboard', this.currentTest?.title);
  });

  it('sign-in — a viewer key — shows its name and role, under the CSP, and keeps the key for the tab only', async () => {
    // Act
    await signIn(viewer.key);
    // Assert
    const who = page.locator('.who');
    await who.waitFor({ state: 'visible', timeout: SEEN });
    expect(await who.innerText())
      .to.contain(viewer.name)
      .and.contain('viewer');
    expect(await page.evaluate('sessionStorage.length')).to.equal(1);
    expect(await page.evaluate('localStorage.length')).to.equal(0);
    // The boot text of index.html is gone once the app is drawn.
    expect(await page.locator('#app').innerText()).not.to.contain('Loading the dashboard');
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('sign-in — a wrong key — is refused with the API message and no session', async () => {
    // Arrange: what the API says to this key.
    const wrong = 'sdlc_not-a-real-key';
    const api = await request(h.baseUrl, 'GET', '/api/v1/whoami', undefined, bearer(wrong));
    expect(api.status).to.equal(401);
    // Act
    await signIn(wrong);
    // Assert
    const alert = page.getByRole('alert');
    await alert.waitFor({ state: 'visible', timeout: SEEN });
    expect(await alert.innerText()).to.contain(api.body.error.message as string);
    expect(await page.locator('.who').count()).to.equal(0);
    expect(await page.evaluate('sessionStorage.length')).to.equal(0);
  });

  it('pipelines list — a running pipeline — turns succeeded without a reload', async () => {
    // Arrange
    const name = `dash-watch-${Date.now()}`;
    await signIn(viewer.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    await page.locator('.live-live').first().waitFor({ timeout: SEEN });
    // A mark on the window: a reload would lose it.
    await page.evaluate('window.notReloaded = true');
    // Act
    const id = await submit({
      name,
      stages: [
        { key: 'first', agent: 'sleep', input: { ms: 1500 } },
        { key: 'second', agent: 'sleep', dependsOn: ['first'], input: { ms: 1500 } },
      ],
    });
    const row = page.locator(`tr[data-pipeline="${id}"]`);
    // Assert: seen unfinished, then succeeded, on the same document.
    await row.locator('.status-running, .status-queued').waitFor({ timeout: SEEN });
    await row.locator('.status-succeeded').waitFor({ timeout: SEEN });
    expect(await row.innerText()).to.contain(name);
    expect(await page.evaluate('window.notReloaded')).to.equal(true);
  });

  it('pipeline page — a finished pipeline — draws its DAG with stage labels, and Enter on a stage shows its details', async () => {
    // Arrange
    const id = await submit({
      name: `dash-dag-${Date.now()}`,
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'test', agent: 'noop', dependsOn: ['build'] },
        { key: 'lint', agent: 'noop', dependsOn: ['build'] },
        { key: 'ship', agent: 'noop', dependsOn: ['test', 'lint'] },
      ],
    });
    await waitUntil(h.baseUrl, id, (p) => p.status === 'succeeded');
    await signIn(viewer.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    // Act
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    // Assert: each stage a labelled node saying its state in words.
    const dag = page.getByRole('group', { name: 'Pipeline stages and their dependencies' });
    await dag.waitFor({ timeout: SEEN });
    for (const key of ['build', 'test', 'lint', 'ship']) {
      const node = page.locator(`g[data-stage="${key}"]`);
      expect(await node.getAttribute('aria-label')).to.equal(`Stage ${key} (noop): succeeded`);
      expect(await node.locator('.node-key').textContent()).to.equal(key);
      expect(await node.locator('.node-status').textContent()).to.contain('succeeded');
    }
    expect(await dag.locator('path.edge').count()).to.equal(4);
    await page.locator('g[data-stage="ship"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('#stage-title', { hasText: 'Stage ship' }).waitFor({ timeout: SEEN });
    expect(await page.locator('table.runs tbody tr').count()).to.equal(1);
  });

  it('pipelines list — a name filter — is kept in the address: a reload and a Back from a pipeline show the same filtered list', async () => {
    // Arrange: two pipelines, one matching the filter
    const stamp = Date.now();
    const wanted = await submit({ name: `dash-filter-wanted-${stamp}`, stages: [{ key: 'only', agent: 'noop' }] });
    const other = await submit({ name: `dash-filter-other-${stamp}`, stages: [{ key: 'only', agent: 'noop' }] });
    await signIn(viewer.key);
    await page.locator(`tr[data-pipeline="${other}"]`).waitFor({ timeout: SEEN });
    await page.getByLabel('Name').fill(`filter-wanted-${stamp}`);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator(`tr[data-pipeline="${other}"]`).waitFor({ state: 'detached', timeout: SEEN });
    expect(new URL(page.url()).searchParams.get('name')).to.equal(`filter-wanted-${stamp}`);
    // Act: a reload
    await page.reload();
    // Assert: the same filter, in its field and on the list
    await page.locator(`tr[data-pipeline="${wanted}"]`).waitFor({ timeout: SEEN });
    expect(await page.getByLabel('Name').inputValue()).to.equal(`filter-wanted-${stamp}`);
    expect(await page.locator('tr[data-pipeline]').count()).to.equal(1);
    // Act: to the pipeline and Back
    await page.getByRole('link', { name: `dash-filter-wanted-${stamp}` }).click();
    await page.locator('#pipeline-title').waitFor({ timeout: SEEN });
    await page.goBack();
    // Assert
    await page.locator(`tr[data-pipeline="${wanted}"]`).waitFor({ timeout: SEEN });
    expect(await page.getByLabel('Name').inputValue()).to.equal(`filter-wanted-${stamp}`);
    expect(await page.locator('tr[data-pipeline]').count()).to.equal(1);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('pipelines list and page — a 200-character name without a space — wraps, and the status stays in the window', async () => {
    // Arrange: the longest name the API takes, one unbroken word.
    const name = `long${Date.now()}`.padEnd(200, 'N');
    const id = await submit({ name, stages: [{ key: 'only', agent: 'noop' }] });
    await waitUntil(h.baseUrl, id, (p) => p.status === 'succeeded');
    const fitsTheWindow = () => page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth');
    await signIn(viewer.key);
    // Act
    const row = page.locator(`tr[data-pipeline="${id}"]`);
    await row.waitFor({ timeout: SEEN });
    // Assert: the list is not pushed wider than the window; the row's status is on screen.
    expect(await fitsTheWindow(), 'the list fits the window').to.equal(true);
    const status = await row.locator('.status-succeeded').boundingBox();
    expect(status, 'the status badge is laid out').not.to.equal(null);
    expect(status!.x + status!.width).to.be.at.most(page.viewportSize()!.width);
    // The pipeline page: its title wraps too.
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    await page.locator('#pipeline-title').waitFor({ timeout: SEEN });
    expect(await page.locator('#pipeline-title').innerText()).to.equal(name);
    expect(await fitsTheWindow(), 'the pipeline page fits the window').to.equal(true);
  });

  it('pipeline page and timeline — stage keys of the longest length (64) — stay inside their DAG nodes, the details and the timeline fit the window', async () => {
    // Arrange: two stages with the longest keys the definition language takes, one unbroken word each.
    const first = `first${Date.now()}`.padEnd(64, 'K');
    const second = `second${Date.now()}`.padEnd(64, 'W');
    const id = await submit({
      name: `dash-long-keys-${Date.now()}`,
      stages: [
        { key: first, agent: 'noop' },
        { key: second, agent: 'noop', dependsOn: [first] },
      ],
    });
    await waitUntil(h.baseUrl, id, (p) => p.status === 'succeeded');
    const fitsTheWindow = () => page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth');
    await signIn(viewer.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    // Act
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    await page.locator(`g[data-stage="${second}"]`).waitFor({ timeout: SEEN });
    // Assert: each key's text ends inside its own node (it overran into the next column), the
    // full key is still its accessible name and its tooltip.
    // A string, not a function: tsx's name helper does not exist in the page.
    const overruns = (await page.evaluate(`[...document.querySelectorAll('g[data-stage]')].map((g) => {
      const box = g.querySelector('.node-box').getBBox();
      const text = g.querySelector('.node-key').getBBox();
      return text.x + text.width - (box.x + box.width);
    })`)) as number[];
    expect(overruns).to.have.length(2);
    for (const overrun of overruns) expect(overrun, 'the key overruns its node by').to.be.at.most(0);
    for (const key of [first, second]) {
      const node = page.locator(`g[data-stage="${key}"]`);
      expect(await node.getAttribute('aria-label')).to.equal(`Stage ${key} (noop): succeeded`);
      expect(await node.locator('title').textContent()).to.equal(key);
    }
    // The stage's details, on a narrow window (a laptop split in two)
    await page.setViewportSize({ width: 560, height: 900 });
    await page.locator(`g[data-stage="${second}"]`).focus();
    await page.keyboard.press('Enter');
    await page.locator('#stage-title', { hasText: second }).waitFor({ timeout: SEEN });
    expect(await fitsTheWindow(), 'the pipeline page and its stage details fit the window').to.equal(true);
    // The timeline
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}/timeline`);
    await page.locator('ol.timeline li', { hasText: second }).first().waitFor({ timeout: SEEN });
    expect(await fitsTheWindow(), 'the timeline fits the window').to.equal(true);
  });

  it('pipeline page — a pause reason holding a right-to-left override — stays in its place, the sentence after it reads forward', async () => {
    // Arrange: a running pipeline paused with a reason that opens U+202E and never closes it.
    const id = await submit({ name: `dash-bidi-${Date.now()}`, stages: [{ key: 'nap', agent: 'sleep', input: { ms: 60_000 } }] });
    const reason = '\u202eevil reason with no end';
    const paused = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/pause`, { reason });
    expect(paused.status, JSON.stringify(paused.body)).to.equal(202);
    try {
      await signIn(viewer.key);
      await page.locator('.who').waitFor({ timeout: SEEN });
      // Act
      await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
      const notice = page.locator('.paused-notice');
      await notice.waitFor({ timeout: SEEN });
      // Assert: the reason is shown as sent, and the platform's sentence after it is not reversed.
      expect(await notice.innerText()).to.contain(reason);
      // A string, not a function: tsx's name helper does not exist in the page.
      const x = (await page.evaluate(`(() => {
        const el = document.querySelector('.paused-notice');
        const text = [...el.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent.includes('Running stages'));
        const at = (word) => {
          const range = document.createRange();
          const i = text.textContent.indexOf(word);
          range.setStart(text, i);
          range.setEnd(text, i + word.length);
          return range.getBoundingClientRect().x;
        };
        return { running: at('Running'), resumed: at('resumed') };
      })()`)) as { running: number; resumed: number };
      expect(x.running, '"Running" is left of "resumed"').to.be.below(x.resumed);
    } finally {
      await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/cancel`, {});
    }
  });

  it('pipeline page — Cancel on a pipeline named with a right-to-left override — the dialog isolates the name, so its question reads forward', async () => {
    // Arrange: a running pipeline whose name opens U+202E and never closes it.
    const name = `\u202edash-rtl-${Date.now()}`;
    const id = await submit({ name, stages: [{ key: 'nap', agent: 'sleep', input: { ms: 60_000 } }] });
    const operator = await h.createKey('dash-rtl-operator', ['operator']);
    try {
      await signIn(operator.key);
      await page.locator('.who').waitFor({ timeout: SEEN });
      await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
      const cancel = page.getByRole('button', { name: 'Cancel pipeline' });
      await cancel.waitFor({ timeout: SEEN });
      // Act: the dialog read, then dismissed
      const shown = new Promise<string>((resolve) =>
        page.once('dialog', (dialog) => {
          resolve(dialog.message());
          void dialog.dismiss();
        }),
      );
      await cancel.click();
      const message = await shown;
      // Assert: the name sits in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, which ends its
      // override: the question mark and the sentence stay left to right (before, "?" was turned too).
      expect(message).to.equal(`Cancel pipeline \u2068${name}\u2069?`);
      expect((await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`)).body.status).to.equal('running');
      expect(problems, problems.join('\n')).to.deep.equal([]);
    } finally {
      await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/cancel`, {});
    }
  });

  it('stage details — a viewer and an operator — only the operator is offered the job on Bull Board, and the link opens it', async () => {
    // Arrange: a finished stage whose job the API names.
    const id = await submit({ name: `dash-board-link-${Date.now()}`, stages: [{ key: 'only', agent: 'noop' }] });
    const done = await waitUntil(h.baseUrl, id, (p) => p.status === 'succeeded');
    const stage = (done.stages as Loose[])[0]!;
    const operator = await h.createKey('dash-operator', ['operator']);
    const link = page.getByRole('link', { name: 'Open the job on Bull Board' });
    const stageShown = async (key: string) => {
      await signIn(key);
      await page.locator('.who').waitFor({ timeout: SEEN });
      await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
      await page.locator('#stage-title', { hasText: 'Stage only' }).waitFor({ timeout: SEEN });
    };
    // Act + Assert: a viewer's key would get 403 from the board (after a Basic prompt): no link.
    await stageShown(viewer.key);
    expect(await link.count()).to.equal(0);
    // An operator is offered it, and it names the job's page on the board.
    await page.evaluate('sessionStorage.clear()');
    await stageShown(operator.key);
    await link.waitFor({ timeout: SEEN });
    const href = await link.getAttribute('href');
    expect(href).to.equal(`/admin/queues/queue/${stage.queue as string}/${stage.jobId as string}`);
    const board = await fetch(`${h.baseUrl}${href}`, {
      headers: { authorization: `Basic ${Buffer.from(`ops:${operator.key}`).toString('base64')}` },
    });
    expect(board.status).to.equal(200);
    expect(await board.text()).to.contain('<base href="/admin/queues/"');
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it("pipeline page — a stage waiting for its second attempt — says its error is the previous attempt's", async () => {
    // Arrange: the first attempt fails, the second waits a minute of backoff.
    const id = await submit({
      name: `dash-retry-${Date.now()}`,
      stages: [
        {
          key: 'flaky',
          agent: 'fail',
          input: { failAttempts: 1, message: 'first try fails' },
          retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 60_000 } },
        },
      ],
    });
    await waitUntil(h.baseUrl, id, (p) => (p.stages as Loose[]).some((s) => s.status === 'queued' && s.error !== null));
    await signIn(viewer.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    // Act
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    await page.locator('g[data-stage="flaky"]').focus();
    await page.keyboard.press('Enter');
    // Assert
    const box = page.locator('pre.error-box');
    await box.waitFor({ timeout: SEEN });
    expect(await box.innerText()).to.equal('The previous attempt failed: AGENT_ERROR: first try fails');
    await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/cancel`, {});
  });

  it('pipeline page — an unfinished pipeline — shows its priority badge; an operator changes it with the keyboard, a viewer has no control', async () => {
    // Arrange
    const operator = await h.createKey('dash-op', ['operator']);
    const id = await submit({ name: `dash-prio-${Date.now()}`, stages: [{ key: 'nap', agent: 'sleep', input: { ms: 30_000 } }] });
    await signIn(viewer.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    await page.locator('.title-row .priority-normal').waitFor({ timeout: SEEN });
    expect(await page.getByRole('button', { name: 'Change priority' }).count(), 'a viewer has no control').to.equal(0);
    // Act: an operator, keyboard only
    await page.evaluate('sessionStorage.clear()');
    await signIn(operator.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    const select = page.getByLabel('Priority');
    await select.waitFor({ timeout: SEEN });
    await select.selectOption('urgent');
    await page.getByRole('button', { name: 'Change priority' }).focus();
    await page.keyboard.press('Enter');
    // Assert: the badge says it, and so does the API
    await page.locator('.title-row .priority-urgent').waitFor({ timeout: SEEN });
    const after = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`);
    expect(after.body.priority).to.equal('urgent');
    await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/cancel`, {});
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('inbox — a pending deployment decision — approved by an engineering manager, the pipeline succeeds', async () => {
    // Arrange: submitted with the admin key, answered by the manager's.
    const id = await submit({ name: `dash-approve-${Date.now()}`, stages: [{ key: 'deploy', agent: 'sim_deployment' }] });
    const decisionId = await pendingDecision(id);
    await signIn(manager.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    // Act
    await page.getByRole('link', { name: 'Inbox' }).click();
    const card = page.locator(`article[data-decision="${decisionId}"]`);
    await card.waitFor({ timeout: SEEN });
    await card.getByLabel('Comment (required to reject)').fill('Looks good to ship.');
    await card.getByRole('button', { name: 'Approve' }).click();
    // Assert: the card leaves the inbox, and the pipeline page shows it succeeded.
    await card.waitFor({ state: 'detached', timeout: SEEN });
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    await page.locator('.title-row .status-succeeded').waitFor({ timeout: SEEN });
    const decision = await request(h.baseUrl, 'GET', `/api/v1/decisions/${decisionId}`);
    expect(decision.body.status).to.equal('approved');
    expect(decision.body.comment).to.equal('Looks good to ship.');
  });

  it('inbox — an escalated decision (confidence under the floor) — is listed under Escalated decisions, and its director approves it there', async () => {
    // Arrange: a confidence of 70, under escalateBelow (80): the decision starts escalated, for engineering_director.
    const director = await h.createKey('dash-director', ['approver', 'engineering_director']);
    const id = await submit({
      name: `dash-escalated-${Date.now()}`,
      input: {
        confidence: 70,
        requirements: 'Move the invoices table to the new cluster with no downtime for any reader.',
        acceptanceCriteria: ['every row copied'],
      },
      stages: [{ key: 'migrate', agent: 'noop', category: 'data_migration' }],
    });
    const waiting = await waitUntil(h.baseUrl, id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'escalated'));
    const decisionId = (waiting.decisions as Loose[]).find((d) => d.status === 'escalated')!.id as string;
    await signIn(director.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    // Act
    await page.getByRole('link', { name: 'Inbox' }).click();
    const escalated = page.getByRole('region', { name: 'Escalated decisions' });
    const card = escalated.locator(`article[data-decision="${decisionId}"]`);
    await card.waitFor({ timeout: SEEN });
    await card.getByRole('button', { name: 'Approve' }).click();
    // Assert: the card leaves, and the API has it approved.
    await card.waitFor({ state: 'detached', timeout: SEEN });
    const decision = await request(h.baseUrl, 'GET', `/api/v1/decisions/${decisionId}`);
    expect(decision.body.status).to.equal('approved');
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('inbox — a decision needing two approvals — one approval shows the vote and that it is recorded, and the card stays', async () => {
    // Arrange: a data migration (quorum 2 of dba, tech_lead) under its autoApproveAt.
    const dba = await h.createKey('dash-dba', ['approver', 'dba']);
    const id = await submit({
      name: `dash-quorum-${Date.now()}`,
      input: {
        confidence: 85,
        requirements: 'Move the orders table to the new cluster with no downtime for any reader.',
        acceptanceCriteria: ['every row copied'],
      },
      stages: [{ key: 'migrate', agent: 'noop', category: 'data_migration' }],
    });
    const decisionId = await pendingDecision(id);
    await signIn(dba.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    await page.goto(`${h.baseUrl}/dashboard/inbox`);
    const card = page.locator(`article[data-decision="${decisionId}"]`);
    await card.getByText('quorum 2').waitFor({ timeout: SEEN });
    // Act
    await card.getByLabel('Comment (required to reject)').fill('Copy checked by the DBA.');
    await card.getByRole('button', { name: 'Approve' }).click();
    // Assert: the card shows the vote (not the page as it was before the click), the comment is cleared.
    await card.getByRole('status').filter({ hasText: 'Your approval is recorded.' }).waitFor({ timeout: SEEN });
    await card.getByText(`votes: ${dba.name} approve`).waitFor({ timeout: SEEN });
    expect(await card.getByLabel('Comment (required to reject)').inputValue()).to.equal('');
    const decision = await request(h.baseUrl, 'GET', `/api/v1/decisions/${decisionId}`);
    expect(decision.body.status).to.equal('pending');
    expect((decision.body.votes as Loose[]).map((v) => v.actor)).to.deep.equal([dba.name]);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('inbox — two decisions needing two approvals, a tech lead votes on one over the API — that card shows the vote live, the other is not read again', async () => {
    // Arrange: two data migrations (quorum 2 of dba, tech_lead); the page is a dba's.
    const dba = await h.createKey('dash-dba-live', ['approver', 'dba']);
    const lead = await h.createKey('dash-lead-live', ['approver', 'tech_lead']);
    const migration = (n: string) => ({
      name: `dash-live-${n}-${Date.now()}`,
      input: {
        confidence: 85,
        requirements: 'Move the orders table to the new cluster with no downtime for any reader.',
        acceptanceCriteria: ['every row copied'],
      },
      stages: [{ key: 'migrate', agent: 'noop', category: 'data_migration' }],
    });
    const voted = await pendingDecision(await submit(migration('a')));
    const untouched = await pendingDecision(await submit(migration('b')));
    await signIn(dba.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    await page.goto(`${h.baseUrl}/dashboard/inbox`);
    const card = page.locator(`article[data-decision="${voted}"]`);
    await card.getByText('quorum 2').waitFor({ timeout: SEEN });
    await page.locator(`article[data-decision="${untouched}"]`).getByText('quorum 2').waitFor({ timeout: SEEN });
    await page.getByText('● Live', { exact: true }).waitFor({ timeout: SEEN });
    const reads: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && /\/api\/v1\/decisions\/DEC-/.test(r.url())) reads.push(new URL(r.url()).pathname);
    });
    // Act
    const vote = await request(h.baseUrl, 'POST', `/api/v1/decisions/${voted}/approve`, { comment: 'Plan reviewed.' }, bearer(lead.key));
    expect(vote.status, JSON.stringify(vote.body)).to.equal(200);
    // Assert: the voted card reads its decision again and shows the vote; the other card did not
    // read its own (both would have been read in the same render before).
    await card.getByText(`votes: ${lead.name} approve`).waitFor({ timeout: SEEN });
    expect(reads).to.include(`/api/v1/decisions/${voted}`);
    expect(reads).to.not.include(`/api/v1/decisions/${untouched}`);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('inbox — another deployment decision — rejected (a comment required first), the pipeline fails', async () => {
    // Arrange
    const id = await submit({ name: `dash-reject-${Date.now()}`, stages: [{ key: 'deploy', agent: 'sim_deployment' }] });
    const decisionId = await pendingDecision(id);
    await signIn(manager.key);
    await page.locator('.who').waitFor({ timeout: SEEN });
    await page.goto(`${h.baseUrl}/dashboard/inbox`);
    const card = page.locator(`article[data-decision="${decisionId}"]`);
    await card.waitFor({ timeout: SEEN });
    // Act: without a comment, then with one.
    await card.getByRole('button', { name: 'Reject' }).click();
    const refusal = await card.getByRole('alert').innerText();
    await card.getByLabel('Comment (required to reject)').fill('Not during the freeze.');
    await card.getByRole('button', { name: 'Reject' }).click();
    // Assert
    expect(refusal).to.contain('comment is required');
    await card.waitFor({ state: 'detached', timeout: SEEN });
    await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
    await page.locator('.title-row .status-failed').waitFor({ timeout: SEEN });
    const decision = await request(h.baseUrl, 'GET', `/api/v1/decisions/${decisionId}`);
    expect(decision.body.status).to.equal('rejected');
  });

  it('pipeline page — its submitter pauses (with a reason) and resumes it by keyboard — the held stage shows paused, then it succeeds', async () => {
    // Arrange: the noop queue paused, so the root waits queued; the submitter's own pipeline.
    const submitter = await h.createKey('dash-submitter', ['submitter']);
    expect((await request(h.baseUrl, 'POST', '/api/v1/agents/noop/pause', {})).status).to.equal(200);
    try {
      const created = await request(
        h.baseUrl,
        'POST',
        '/api/v1/pipelines',
        {
          name: `dash-pause-${Date.now()}`,
          stages: [
            { key: 'a', agent: 'noop' },
            { key: 'b', agent: 'noop', dependsOn: ['a'] },
          ],
        },
        bearer(submitter.key),
      );
      expect(created.status).to.equal(202);
      const id = created.body.id as string;
      await signIn(submitter.key);
      await page.locator('.who').waitFor({ timeout: SEEN });
      await page.goto(`${h.baseUrl}/dashboard/pipelines/${id}`);
      // Act: pause with a reason.
      await page.getByLabel('Pause reason (optional)').fill('release freeze');
      await page.getByRole('button', { name: 'Pause pipeline' }).click();
      // Assert: the notice says who and why, the root is drawn paused.
      const notice = page.getByRole('status').filter({ hasText: 'Paused' });
      await notice.waitFor({ timeout: SEEN });
      expect(await notice.innerText()).to.contain(`by ${submitter.id}: release freeze`);
      await page.locator('g[data-stage="a"][aria-label="Stage a (noop): paused"]').waitFor({ timeout: SEEN });
      // Act: resume with the keyboard, then let the noop queue go.
      const resume = page.getByRole('button', { name: 'Resume pipeline' });
      await resume.focus();
      await page.keyboard.press('Enter');
      await notice.waitFor({ state: 'detached', timeout: SEEN });
      expect((await request(h.baseUrl, 'POST', '/api/v1/agents/noop/resume', {})).status).to.equal(200);
      // Assert
      await page.locator('.title-row .status-succeeded').waitFor({ timeout: SEEN });
      expect(await page.getByRole('button', { name: 'Pause pipeline' }).count()).to.equal(0);
    } finally {
      await request(h.baseUrl, 'POST', '/api/v1/agents/noop/resume', {});
    }
  });
});
