import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureChromium } from '../../deploy/local/chromium.js';

/**
 * Debian's Chromium, headless, driven by playwright-core: nothing is downloaded but the Debian
 * package (deploy/local/chromium.ts installs it when missing). Playwright gives every launch a
 * fresh temporary profile (--user-data-dir) and adds --headless itself. The network is closed
 * here, so everything that could phone home is off.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
] as const;

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await ensureChromium();
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS] });
}

/** What a page complained about: console errors, uncaught errors, CSP violations, failed requests. */
export interface PageTrouble {
  readonly messages: string[];
}

/**
 * A new page in a context of its own (own cookies), English unless told, 1280×800 unless told,
 * with every console error, page error and content-security-policy violation recorded.
 */
export async function newPage(
  browser: Browser,
  options: { locale?: string; width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; trouble: PageTrouble }> {
  const context = await browser.newContext({
    locale: options.locale ?? 'en-GB',
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
  });
  const page = await context.newPage();
  const trouble: PageTrouble = { messages: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') trouble.messages.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => {
    trouble.messages.push(`page error: ${error.message}`);
  });
  // Blocked by the page's Content-Security-Policy: reported to the console as well, but say so.
  // (A string: these tests are compiled without the DOM's types.)
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
      console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI);
    });`,
  });
  return { context, page, trouble };
}
