import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build.js';
import { launchBrowser, newPage } from '../support/browser.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  eventually,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

/** The dashboard's segment selector in a real headless Chromium against a real pipeline. */

let browser: Browser;

beforeAll(async () => {
  await buildDashboard();
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser.close();
});

describe('dashboard segments', () => {
  it('with NPS_SEGMENT_KEYS set, a reader picks a segment and value and the live tiles and the URL show that slice', async () => {
    const { url } = await startPipeline(undefined, {
      ...pipelineEnv(),
      NPS_SESSION_SECRET: 'test-session-secret-0123456789-abcdefghij',
      NPS_SEGMENT_KEYS: 'store',
    });
    const surveyId = uniqueName('dash-seg');
    const posted = [
      { score: 10, store: 'aarhus' },
      { score: 9, store: 'aarhus' },
      { score: 2, store: 'aarhus' },
      { score: 0, store: 'odense' },
      { score: 0, store: 'odense' },
    ];
    const res = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: posted.map((p) => ({ surveyId, score: p.score, segment: { store: p.store } })),
    });
    expect(res.status).toBe(202);
    await eventually(
      () => api(url, '/v1/surveys', { key: READ_KEY }),
      ({ body }) => JSON.stringify(body).includes(surveyId),
    );
    await eventually(
      () => api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY }),
      ({ body }) => body.responses === posted.length,
    );
    // Aarhus, from what was posted: 2 promoters and 1 detractor of 3.
    const aarhus = posted.filter((p) => p.store === 'aarhus');
    const nps =
      (100 *
        (aarhus.filter((p) => p.score >= 9).length - aarhus.filter((p) => p.score <= 6).length)) /
      aarhus.length;

    const { page, trouble } = await newPage(browser);
    await page.goto(`${url}/`);
    await page.locator('input[name="apiKey"]').fill(READ_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#survey').selectOption(surveyId);
    await expect
      .poll(() => page.getByTestId('live-responses').textContent(), { timeout: 15_000 })
      .toBe(String(posted.length));

    await page.locator('#segment-key').selectOption('store');
    await page.locator('#segment-value').fill('aarhus');
    await page.locator('#segment-value').press('Enter');
    await expect
      .poll(() => page.getByTestId('live-responses').textContent(), { timeout: 15_000 })
      .toBe(String(aarhus.length));
    expect(await page.getByTestId('live-nps').textContent()).toBe(nps.toFixed(1));
    expect(new URL(page.url()).searchParams.get('segment.store')).toBe('aarhus');
    expect(await page.locator('#segment-scope').isVisible()).toBe(true);

    // A shared link opens the same slice.
    const shared = await page.context().newPage();
    await shared.goto(`${url}/?surveyId=${surveyId}&window=24h&segment.store=odense`);
    await expect
      .poll(() => shared.getByTestId('live-responses').textContent(), { timeout: 15_000 })
      .toBe('2');
    expect(await shared.locator('#segment-value').inputValue()).toBe('odense');
    await shared.close();
    expect(trouble.messages).toEqual([]);
  });
});
