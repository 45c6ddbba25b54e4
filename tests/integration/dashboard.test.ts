import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { findKey } from '../../src/http/auth.js';
import { loadConfig } from '../../src/config/config.js';
import { buildDashboard } from '../../src/dashboard/build.js';
import { Sessions } from '../../src/dashboard/session.js';
import { start } from '../../src/start.js';
import type { Role } from '../../src/start.js';
import { launchBrowser, newPage } from '../support/browser.js';
import { runCli } from '../support/child.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  cleanupPipeline,
  eventually,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';
import { clickhouseTarget, endpoints } from '../support/services.js';

/**
 * The dashboard in a real headless Chromium (Debian's, through playwright-core) against a real
 * pipeline. "Within 2 s" is the promise for the page: each check first waits, without a
 * limit of its own, until /v1/nps/live has the new responses, then gives the page 2 s to show them.
 */

const SESSION_SECRET = 'test-session-secret-0123456789-abcdefghij';
const PAGE_SECONDS = 2_000;
const FIRST_VIEW_MS = 15_000;

let browser: Browser;

beforeAll(async () => {
  // Tests the page as it is in web/ now, not as the last `npm ci` built it.
  await buildDashboard();
  browser = await launchBrowser();
  // The first run on a machine may install Debian's chromium.
}, 600_000);

afterAll(async () => {
  await browser.close();
});

type Live = { responses: number; nps: number | null; marginOfError: number | null };

async function live(url: string, surveyId: string): Promise<Live> {
  const { body } = await api(url, `/v1/nps/live?surveyId=${surveyId}&window=24h`, {
    key: READ_KEY,
  });
  return body as unknown as Live;
}

/** Posts responses and waits until the live window counts them (the pipeline's own pace). */
async function respond(url: string, surveyId: string, scores: readonly number[]): Promise<Live> {
  const before = (await live(url, surveyId)).responses;
  const posted = await api(url, '/v1/responses', {
    key: INGEST_KEY,
    body: scores.map((score) => ({ surveyId, score, channel: 'web' })),
  });
  expect(posted.status).toBe(202);
  return eventually(
    () => live(url, surveyId),
    (l) => l.responses === before + scores.length,
  );
}

/** startPipeline, with what the process prints kept in `said`. */
async function startSaying(roles: readonly Role[], env: Record<string, string>, said: string[]) {
  const config = loadConfig({ ...process.env, ...env });
  cleanupPipeline(env);
  const running = await start({
    config,
    endpoints: { ...endpoints(), clickhouse: clickhouseTarget() },
    roles,
    port: 0,
    log: (m) => said.push(m),
  });
  onTestFinished(() => running.close());
  return { ...running, config };
}

const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();

/**
 * The live tiles show `expected` (as en-GB writes numbers) within the page's 2 s of new responses;
 * a first view, which loads the page and its data, gets longer.
 */
async function showsLive(page: Page, expected: Live, timeout = PAGE_SECONDS): Promise<void> {
  const options = { timeout, interval: 100 };
  await expect.poll(() => text(page, 'live-responses'), options).toBe(String(expected.responses));
  await expect.poll(() => text(page, 'live-nps'), options).toBe(String(expected.nps));
  await expect.poll(() => text(page, 'live-moe'), options).toBe(String(expected.marginOfError));
}

describe('dashboard', () => {
  it('a reader signs in, picks a survey, sees /v1/nps/live move within 2 s of new responses, switches to Danish, signs out and is refused', async () => {
    const { url } = await startPipeline(undefined, {
      ...pipelineEnv(),
      NPS_SESSION_SECRET: SESSION_SECRET,
    });
    const quiet = uniqueName('quiet');
    const watched = uniqueName('watched');
    await respond(url, quiet, [10]);
    const first = await respond(url, watched, [10, 3, 0]);
    // The survey list is read from history, which the processor writes beside the live windows.
    await eventually(
      () => api(url, '/v1/surveys', { key: READ_KEY }),
      ({ body }) => JSON.stringify(body).includes(watched),
    );

    const { page, trouble } = await newPage(browser);
    await page.goto(`${url}/`);
    await page.locator('input[name="apiKey"]').fill(READ_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#survey').selectOption(watched);
    await expect.poll(() => new URL(page.url()).searchParams.get('surveyId')).toBe(watched);
    expect(new URL(page.url()).searchParams.get('window')).toBe('24h');
    await showsLive(page, first, FIRST_VIEW_MS);
    expect(first.nps).toBe(-33.3);
    // The key is not kept in the page: not in the field, the URL or storage.
    expect(await page.locator('input[name="apiKey"]').inputValue()).toBe('');
    // (Strings: these tests are compiled without the DOM's types.)
    const kept = await page.evaluate<string>(
      'JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie + location.href + document.body.innerHTML',
    );
    expect(kept).not.toContain(READ_KEY);

    const second = await respond(url, watched, [10, 10]);
    expect(second).toMatchObject({ responses: 5, nps: 20 });
    await showsLive(page, second);

    // A shared link opens the same view.
    const shared = await page.context().newPage();
    await shared.goto(`${url}/?surveyId=${watched}&window=1h`);
    await expect.poll(() => shared.getByTestId('live-responses').textContent()).toBe('5');
    expect(await shared.locator('#window').inputValue()).toBe('1h');
    await shared.close();

    await page.locator('#lang').selectOption('da');
    await expect.poll(() => page.getByRole('button', { name: 'Log ud' }).count()).toBe(1);
    expect(await page.locator('label[for="survey"]').textContent()).toBe('Undersøgelse');
    const third = await respond(url, watched, [9, 9, 9, 9, 9, 9, 0, 7]);
    // 9 promoters and 3 detractors of 13: NPS 46.2, written the Danish way.
    expect(third.nps).toBe(46.2);
    await expect
      .poll(() => text(page, 'live-nps'), { timeout: PAGE_SECONDS, interval: 100 })
      .toBe('46,2');
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('da');

    expect(trouble.messages).toEqual([]);
    await page.getByRole('button', { name: 'Log ud' }).click();
    await expect.poll(() => page.locator('input[name="apiKey"]').isVisible()).toBe(true);
    const refused = await page.evaluate(
      async (surveyId) => (await fetch(`/v1/nps/live?surveyId=${surveyId}`)).status,
      watched,
    );
    expect(refused).toBe(401);
    await page.reload();
    await expect.poll(() => page.locator('input[name="apiKey"]').isVisible()).toBe(true);
    expect(await page.getByTestId('live-nps').isVisible()).toBe(false);
  });

  it('sign-in takes a read key from this site only, and the cookie opens reads and nothing else', async () => {
    const { url } = await startPipeline(['ingest', 'api'], {
      ...pipelineEnv(),
      NPS_SESSION_SECRET: SESSION_SECRET,
      NPS_TRUST_PROXY: '1',
    });
    const signIn = (apiKey: string, headers: Record<string, string> = { origin: url }) =>
      api(url, '/session', { body: { apiKey }, headers });

    expect((await signIn(READ_KEY, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await signIn(READ_KEY, {})).status).toBe(403);
    expect((await signIn('not-a-key-0123456789')).status).toBe(401);
    expect((await signIn(INGEST_KEY)).status).toBe(403);

    const ok = await signIn(READ_KEY);
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(
      /^nps_session=[^;]+; Path=\/; Max-Age=43\d{3}; HttpOnly; SameSite=Strict$/,
    );
    const session = cookie.split(';')[0] ?? '';
    const read = (c: string) =>
      api(url, '/v1/nps/live?surveyId=a', { headers: { cookie: c } }).then((r) => r.status);
    expect(await read(session)).toBe(200);
    const later = session.replace(/\.(\d+)\./, (_, expiry: string) => `.${Number(expiry) + 60}.`);
    expect(later).not.toBe(session);
    expect(await read(later)).toBe(401);
    // Signed with the right secret, but for a session that ended a minute ago.
    const { apiKeys } = loadConfig({ HOME: '/h', NPS_API_KEYS: `${READ_KEY}:read` });
    const ended = new Sessions(
      () => Buffer.from(SESSION_SECRET),
      apiKeys,
      60_000,
      () => Date.now() - 120_000,
    );
    const [readKey] = apiKeys;
    if (!readKey) throw new Error('no key');
    expect(await read(`nps_session=${ended.issue(readKey).value}`)).toBe(401);
    expect(
      (
        await api(url, '/v1/responses', {
          body: { surveyId: 'a', score: 9 },
          headers: { cookie: session },
        })
      ).status,
    ).toBe(401);

    const https = await signIn(READ_KEY, {
      origin: 'https://nps.example.test',
      'x-forwarded-proto': 'https',
    });
    expect(https.headers.get('set-cookie')).toMatch(/; Secure$/);

    const out = await api(url, '/session', {
      method: 'DELETE',
      headers: { origin: url, cookie: session },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^nps_session=; Path=\/; Max-Age=0;/);

    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const script = /src="(\/assets\/app-[^"]+\.js)"/.exec(await page.text())?.[1] ?? '';
    const asset = await fetch(`${url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('a first start on loopback without keys makes a local admin key once, whose printed link signs the browser in and which nps demo uses', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'nps-first-run-'));
    onTestFinished(() => {
      rmSync(stateDir, { recursive: true, force: true });
    });
    const env = { ...pipelineEnv(), NPS_API_KEYS: '', NPS_STATE_DIR: stateDir };
    const said: string[] = [];
    const { url, config } = await startSaying(['ingest', 'process', 'api'], env, said);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/#key=(nps_[\w-]+))/.exec(said.join('\n'));
    expect(link).not.toBeNull();
    const [, loginLink = '', key = ''] = link ?? [];
    expect(statSync(join(stateDir, 'local-admin-key')).mode & 0o777).toBe(0o600);

    const { page, trouble } = await newPage(browser);
    await page.goto(loginLink);
    await expect.poll(() => page.locator('#sign-out').isVisible()).toBe(true);
    expect(page.url()).not.toContain(key);

    // nps demo, with no NPS_API_KEYS and no other setup, sends with that key.
    const demo = await runCli(['demo', '--rate', '5', '--duration', '1', '--url', url], {
      NPS_API_KEYS: '',
      NPS_STATE_DIR: stateDir,
    });
    expect(demo.output).toContain('done: 5 responses accepted');
    const after = await eventually(
      () => api(url, '/v1/nps/live?surveyId=demo', { key }).then((r) => r.body as unknown as Live),
      (l) => l.responses === 5,
    );
    await eventually(
      () => api(url, '/v1/surveys', { key }),
      ({ body }) => JSON.stringify(body).includes('"demo"'),
    );
    await page.reload();
    await expect.poll(() => page.locator('#survey').inputValue()).toBe('demo');
    await showsLive(page, after, FIRST_VIEW_MS);
    expect(trouble.messages).toEqual([]);

    // A second start keeps the key and does not print it again.
    const again: string[] = [];
    await startSaying(
      ['api'],
      { ...pipelineEnv(), NPS_API_KEYS: '', NPS_STATE_DIR: stateDir },
      again,
    );
    expect(again.join('\n')).not.toContain(key);
    expect(again.join('\n')).toContain(join(stateDir, 'local-admin-key'));
    expect(config.apiKeys).toEqual([]);
  });

  it('bound to anything but loopback, start refuses to run without keys and says so', async () => {
    const refused = await runCli(['start'], {
      NPS_HOST: '0.0.0.0',
      NPS_API_KEYS: '',
      NPS_STATE_DIR: join(tmpdir(), 'nps-never-made'),
    });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/NPS_API_KEYS is required when listening on 0\.0\.0\.0/);
  });

  it('nps keys create prints a new key and the NPS_API_KEYS line of its digest', async () => {
    const { code, output } = await runCli(
      ['keys', 'create', '--scope', 'read', '--surveys', 'a|b'],
      {},
    );
    expect(code).toBe(0);
    const key = /^key: (nps_[\w-]{32})$/m.exec(output)?.[1] ?? '';
    const entry = /^NPS_API_KEYS entry: (sha256:[0-9a-f]{64}:read:a\|b)$/m.exec(output)?.[1] ?? '';
    expect(entry).not.toContain(key);
    const found = findKey(loadConfig({ HOME: '/h', NPS_API_KEYS: entry }).apiKeys, key);
    expect([...(found?.scopes ?? [])]).toEqual(['read']);
    expect([...(found?.surveys ?? [])]).toEqual(['a', 'b']);
  });
});
