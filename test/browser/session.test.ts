// The dashboard's session in headless Chromium when its key stops working mid-session: a key
// revoked while a page is open signs the page out with the API's reason (from the event stream
// the API ends, or from the next call), and the tab stops sending it, so that it does not spend
// its address's RATE_LIMIT_AUTH_FAILURES budget for every other key there; a kept key the API
// could not check on reload (429, its requests of the window spent) is kept. Each test is its own client address (TRUST_PROXY=1 and
// X-Forwarded-For), so the failures of one do not count against another. Needs /usr/bin/chromium.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { startChromium, type Chromium, openWatchedPage, screenshotAndClose } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request } from '../support/http.js';
import { tcpProxy } from '../support/tcp-proxy.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-output');
const SEEN = 20_000;
/** Failed authentications an address may make per window before every key from it gets 429. */
const AUTH_FAILURES = 4;
/** Requests one key may make per window: the page's few, and then a test that spends them. */
const PER_IDENTITY = 30;
/** The dashboard's reconnect delay (dashboard/src/sse.ts) when the server names none. */
const STREAM_RETRY_MS = 2000;

describe('dashboard session when the key stops working (browser)', function () {
  this.timeout(90_000);

  let h: Harness;
  let context: BrowserContext;
  let chromium: Chromium | undefined;
  let problems: string[];
  let page: Page;
  let address: string;
  let lastOctet = 200;

  /** GET whoami as if from the test's address. */
  const whoami = (key: string) => request(h.baseUrl, 'GET', '/api/v1/whoami', undefined, { ...bearer(key), 'x-forwarded-for': address });

  const signIn = async (key: string) => {
    await page.goto(`${h.baseUrl}/dashboard`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.who').waitFor({ timeout: SEEN });
  };

  /** The sign-in form, shown again, with its notice. */
  const signedOutNotice = async (): Promise<string> => {
    await page.getByLabel('API key').waitFor({ timeout: SEEN });
    const notice = page.locator('#sign-in-error');
    await notice.waitFor({ timeout: SEEN });
    return notice.innerText();
  };

  before(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
    await mkdir(SCREENSHOTS, { recursive: true });
    h = await startHarness({
      workers: 0,
      env: {
        EVENT_STREAM_CREDENTIAL_CHECK_MS: '500',
        RATE_LIMIT_AUTH_FAILURES: String(AUTH_FAILURES),
        RATE_LIMIT_PER_IDENTITY: String(PER_IDENTITY),
        RATE_LIMIT_WINDOW_MS: '600000',
        TRUST_PROXY: '1',
      },
    });
    chromium = await startChromium('session', { viewport: { width: 1280, height: 900 } });
    context = chromium.context;
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  beforeEach(async () => {
    problems = [];
    address = `203.0.113.${++lastOctet}`;
    page = await openWatchedPage(context, problems);
    await page.setExtraHTTPHeaders({ 'x-forwarded-for': address });
  });
  afterEach(async function () {
    await screenshotAndClose(page, SCREENSHOTS, 'session', this.currentTest?.title);
  });

  it('a key revoked while the list is open — the ended event stream signs the page out with the reason, and the tab stops sending the key', async () => {
    // Arrange
    const viewer = await h.createKey('session-revoked-idle', ['viewer']);
    await signIn(viewer.key);
    await page.locator('.live-live').first().waitFor({ timeout: SEEN });
    let sentAfterSignOut = 0;
    let signedOut = false;
    page.on('request', (req) => {
      if (signedOut && req.headers()['authorization'] === `Bearer ${viewer.key}`) sentAfterSignOut += 1;
    });
    // Act: revoked by an admin; the tab is left alone.
    const revoke = await request(h.baseUrl, 'POST', `/api/v1/keys/${viewer.recordId}/revoke`, {});
    expect(revoke.status, JSON.stringify(revoke.body)).to.equal(200);
    // Assert: signed out with the API's own reason, the key forgotten.
    const notice = await signedOutNotice();
    signedOut = true;
    const refusal = await whoami(viewer.key);
    expect(refusal.status).to.equal(401);
    expect(notice).to.equal(`Signed out: ${refusal.body.error.message as string}`);
    expect(await page.evaluate('sessionStorage.length')).to.equal(0);
    expect(await page.locator('.who').count()).to.equal(0);
    // Longer than two reconnect delays: a tab that kept retrying would have sent the key again.
    await page.waitForTimeout(3 * STREAM_RETRY_MS);
    expect(sentAfterSignOut, 'requests with the revoked key after the sign-out').to.equal(0);
    // The address's budget is not spent: another key from it is still let in.
    expect((await whoami(h.adminKey)).status).to.equal(200);
  });

  it('a key revoked mid-session — the next action signs the page out with the reason', async () => {
    // Arrange
    const operator = await h.createKey('session-revoked-click', ['operator']);
    await signIn(operator.key);
    await page.getByRole('heading', { name: 'Pipelines' }).waitFor({ timeout: SEEN });
    const revoke = await request(h.baseUrl, 'POST', `/api/v1/keys/${operator.recordId}/revoke`, {});
    expect(revoke.status).to.equal(200);
    // Act
    await page.getByRole('link', { name: 'Agents' }).click();
    // Assert: the sign-in form with the API's message, not a signed-in page of errors.
    expect(await signedOutNotice()).to.match(/^Signed out: .*revoked/);
    expect(await page.evaluate('sessionStorage.length')).to.equal(0);
    expect(await page.getByRole('heading', { name: 'Agents' }).count()).to.equal(0);
  });

  it('a kept key that the API cannot check on reload (429) — is kept, and the page says why', async () => {
    // Arrange: signed in, then the key spends its requests of the window elsewhere.
    const viewer = await h.createKey('session-limited', ['viewer']);
    await signIn(viewer.key);
    let limited = await whoami(viewer.key);
    for (let i = 0; i < PER_IDENTITY && limited.status !== 429; i += 1) limited = await whoami(viewer.key);
    expect(limited.status, JSON.stringify(limited.body)).to.equal(429);
    // Act
    await page.reload();
    // Assert: the key is still kept (a reload after the window signs in again), and the notice says why.
    const notice = await signedOutNotice();
    expect(notice).to.contain('could not be checked').and.contain('RATE_LIMIT_PER_IDENTITY');
    expect(await page.evaluate('sessionStorage.length')).to.equal(1);
  });

  it('the API unreachable mid-session — an action says the API could not be reached, and the key is kept', async () => {
    // Arrange: the page reaches the API through a proxy the test stops (the API itself runs on).
    const target = new URL(h.baseUrl);
    const proxy = await tcpProxy(target.hostname, Number(target.port));
    await proxy.start();
    try {
      const viewer = await h.createKey('session-unreachable', ['viewer']);
      await page.goto(`http://127.0.0.1:${proxy.port}/dashboard`);
      await page.getByLabel('API key').fill(viewer.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('.who').waitFor({ timeout: SEEN });
      await proxy.stop();
      // Act
      await page.getByRole('link', { name: 'Agents' }).click();
      // Assert: a sentence a person can act on, not the browser's "Failed to fetch"; still signed in.
      const alert = page.getByRole('alert');
      await alert.waitFor({ timeout: SEEN });
      expect(await alert.innerText()).to.contain('The API could not be reached');
      expect(await page.locator('.who').count()).to.equal(1);
      expect(await page.evaluate('sessionStorage.length')).to.equal(1);
    } finally {
      await proxy.stop();
    }
  });
});
