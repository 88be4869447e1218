// Bull Board renders in headless Chromium with the helmet CSP in place: the page opens with
// HTTP Basic credentials (an operator's API key as password), the queue names appear, and the
// console reports no Content Security Policy violation. Needs /usr/bin/chromium (Debian `chromium`).
import { expect } from 'chai';
import type { BrowserContext } from 'playwright-core';
import { startChromium, type Chromium } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';
import { agentQueueName, CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';

describe('Bull Board in headless Chromium (browser)', () => {
  let h: Harness;
  let context: BrowserContext;
  let chromium: Chromium | undefined;
  before(async () => {
    h = await startHarness({ workers: 0 });
    const operator = await h.createKey('board-browser', ['operator']);
    chromium = await startChromium('bull-board', { httpCredentials: { username: 'operator', password: operator.key } });
    context = chromium.context;
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  it('renders the queue names with no CSP violation in the console', async () => {
    const page = await context.newPage();
    const cspMessages: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspMessages.push(message.text());
    });
    page.on('pageerror', (error) => {
      if (error.message.includes('Content Security Policy')) cspMessages.push(error.message);
    });

    const res = await page.goto(`${h.baseUrl}/admin/queues`, { waitUntil: 'domcontentloaded' });
    expect(res?.status()).to.equal(200);
    expect(res?.headers()['content-security-policy']).to.contain("script-src 'self'");

    const agentQueue = agentQueueName([...h.catalog.keys()][0]!);
    for (const name of [CONTROL_QUEUE, agentQueue]) {
      await page.getByText(name, { exact: true }).first().waitFor({ state: 'visible', timeout: 20_000 });
    }
    // Let late style/script insertions surface in the console before judging.
    await page.waitForLoadState('load');
    await page.waitForTimeout(500);
    expect(cspMessages, cspMessages.join('\n')).to.deep.equal([]);
  });
});
