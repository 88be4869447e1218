// Headless Debian Chromium driven by playwright-core, for the browser tests: one persistent
// profile per test file, no network of its own (no updates, sync or QUIC).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

type LaunchOptions = Omit<NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>, 'executablePath' | 'headless' | 'args'>;

/** A running Chromium on a profile of its own; `close` ends it and removes the profile. */
export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts Chromium on a new profile folder named after `name` (a test file's), removed again by `close`. */
export async function startChromium(name: string, options: LaunchOptions = {}): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), `${name}-chromium-`));
  const removeProfile = () => rm(profile, { recursive: true, force: true });
  try {
    const context = await launchChromium(profile, options);
    return {
      context,
      async close() {
        await context.close();
        await removeProfile();
      },
    };
  } catch (error) {
    await removeProfile();
    throw error;
  }
}

function launchChromium(profile: string, options: LaunchOptions): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    ...options,
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
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

/**
 * A new tab (sessionStorage, where the dashboard keeps the key, starts empty) whose console
 * errors, Content Security Policy violations and uncaught errors are pushed to `problems`.
 */
export async function openWatchedPage(context: BrowserContext, problems: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.text().includes('Content Security Policy')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return page;
}

/** Saves a full-page screenshot of the tab as `<dir>/<prefix>-<test title>.png`, then closes it. */
export async function screenshotAndClose(page: Page, dir: string, prefix: string, title = 'test'): Promise<void> {
  const name = title.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
  await page.screenshot({ path: join(dir, `${prefix}-${name}.png`), fullPage: true });
  await page.close();
}
