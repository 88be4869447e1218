// The dashboard's Agents page (issue 17) in headless Chromium against a harness API (no worker:
// nothing needs to run, only the queue's pause flag and its record): a viewer sees the agent types
// and no controls; an operator pauses `noop` with a reason from the keyboard, the row and
// GET /api/v1/agents say paused by them with that reason, then resumes it. Saves a screenshot
// under test-output/.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { startChromium, type Chromium, openWatchedPage, screenshotAndClose } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request } from '../support/http.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-output');
const SEEN = 20_000;

interface AgentItem {
  type: string;
  paused: boolean;
  pause: { at: string; by: string; reason: string | null } | null;
}

describe('dashboard agents page in headless Chromium (browser)', function () {
  this.timeout(90_000);
  let h: Harness;
  let context: BrowserContext;
  let chromium: Chromium | undefined;
  let page: Page;
  let problems: string[];
  let viewer: { key: string };
  let operator: { key: string; id: string };

  const signIn = async (key: string) => {
    await page.goto(`${h.baseUrl}/dashboard/agents`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const row = (type: string) => page.locator(`tr[data-agent="${type}"]`);
  const noopOf = async (): Promise<AgentItem | undefined> => {
    const res = await request(h.baseUrl, 'GET', '/api/v1/agents');
    expect(res.status).to.equal(200);
    return (res.body.items as AgentItem[]).find((a) => a.type === 'noop');
  };

  before(async function () {
    this.timeout(120_000);
    // A schema of its own: a pause is recorded in Postgres, and every reconciler pass pauses the
    // queue again from that record, so a pause left in the shared schema would hold other files' noop stages.
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
    await mkdir(SCREENSHOTS, { recursive: true });
    h = await startHarness({ workers: 0, ownSchema: true });
    viewer = await h.createKey('agents-dash-viewer', ['viewer']);
    operator = await h.createKey('agents-dash-operator', ['operator']);
    chromium = await startChromium('agents', { viewport: { width: 1280, height: 900 } });
    context = chromium.context;
  });
  after(async () => {
    // Whatever an assertion left behind, noop is not left paused.
    if (h) await request(h.baseUrl, 'POST', '/api/v1/agents/noop/resume', {});
    await chromium?.close();
    await h?.close();
  });
  beforeEach(async () => {
    problems = [];
    page = await openWatchedPage(context, problems);
  });
  afterEach(async function () {
    await screenshotAndClose(page, SCREENSHOTS, 'agents', this.currentTest?.title);
  });

  it('a viewer sees the agent types and their state, and no pause or resume controls', async () => {
    // Act
    await signIn(viewer.key);
    await row('noop').waitFor({ state: 'visible', timeout: SEEN });
    // Assert
    expect(await page.getByRole('link', { name: 'Agents' }).getAttribute('aria-current')).to.equal('page');
    expect(await row('noop').innerText())
      .to.contain('noop')
      .and.contain('1.0.0')
      .and.contain('running');
    expect(await row('sleep').count()).to.equal(1);
    expect(await page.locator('table.agents').getByRole('button').count()).to.equal(0);
    expect(await page.getByLabel('Pause reason (optional)').count()).to.equal(0);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('an operator pauses noop with a reason from the keyboard, sees it paused by them, then resumes it', async () => {
    // Arrange
    await signIn(operator.key);
    await row('noop').waitFor({ state: 'visible', timeout: SEEN });

    // Act: type the reason, Tab to the button, Enter.
    await row('noop').getByLabel('Pause reason (optional)').focus();
    await page.keyboard.type('vendor maintenance');
    await page.keyboard.press('Tab');
    // A string: the root tsconfig has no DOM types, and this runs in the page.
    expect(await page.evaluate('document.activeElement?.textContent')).to.equal('Pause noop');
    await page.keyboard.press('Enter');
    await row('noop').getByRole('button', { name: 'Resume noop' }).waitFor({ timeout: SEEN });

    // Assert: the row and the API say paused, by the operator, with the reason.
    const text = await row('noop').innerText();
    expect(text).to.contain('paused since').and.contain(`by ${operator.id}: vendor maintenance`);
    expect(await row('sleep').innerText()).to.contain('running');
    const paused = await noopOf();
    expect(paused?.paused).to.equal(true);
    expect(paused?.pause).to.include({ by: operator.id, reason: 'vendor maintenance' });
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-noop-paused.png'), fullPage: true });

    // Act: resume from the keyboard.
    await row('noop').getByRole('button', { name: 'Resume noop' }).focus();
    await page.keyboard.press('Enter');
    await row('noop').getByRole('button', { name: 'Pause noop' }).waitFor({ timeout: SEEN });

    // Assert
    expect(await row('noop').innerText()).to.contain('running');
    const resumed = await noopOf();
    expect(resumed?.paused).to.equal(false);
    expect(resumed?.pause).to.equal(null);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
