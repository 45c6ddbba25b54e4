import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoResponse } from '../../src/cli/demo.js';
import { loadConfig } from '../../src/config/config.js';
import { localAdminKey } from '../../src/dashboard/first-run.js';
import { launchBrowser, newPage } from './browser.js';

/**
 * The README's dashboard screenshots, taken in headless Chromium from a running service:
 *
 *   npm start & nps demo &            # a first run on loopback: the local admin key does it all
 *   npm run screenshots -- [--seed-history] [--url URL] [--key KEY] [--out docs]
 *
 * --seed-history first sends 90 days of synthetic responses to survey `demo` (backdated, with a
 * delivery problem three weeks ago), so the trend has something to show.
 */

const DAY = 86_400_000;

async function seedHistory(url: string, key: string): Promise<void> {
  const now = Date.now();
  const batch = [];
  for (let day = 1; day <= 90; day++) {
    const trouble = day >= 18 && day <= 24;
    for (let i = 0; i < 25 + Math.floor(Math.random() * 20); i++) {
      const response = demoResponse('demo');
      const late = trouble && Math.random() < 0.35;
      batch.push({
        ...response,
        ...(late && {
          score: Math.floor(Math.random() * 5),
          comment: 'Pakken kom en uge for sent',
        }),
        respondedAt: new Date(now - day * DAY - Math.random() * DAY).toISOString(),
      });
    }
  }
  for (let i = 0; i < batch.length; i += 1000) {
    const res = await fetch(`${url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(batch.slice(i, i + 1000)),
    });
    if (res.status !== 202) throw new Error(`seeding refused: ${res.status} ${await res.text()}`);
  }
  // The fix, as an annotation: a marker on the trend, and what /v1/nps/impact compares around.
  const annotated = await fetch(`${url}/v1/annotations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      surveyId: 'demo',
      annotationId: 'demo-new-courier',
      at: new Date(now - 17 * DAY).toISOString(),
      label: 'New courier',
    }),
  });
  if (annotated.status >= 300 && annotated.status !== 409)
    throw new Error(`annotation refused: ${annotated.status} ${await annotated.text()}`);
  console.log(`seeded ${batch.length} responses over 90 days`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: `http://127.0.0.1:${config.port}` },
      key: { type: 'string' },
      out: { type: 'string', default: 'docs' },
      'seed-history': { type: 'boolean', default: false },
    },
  });
  const key = values.key ?? localAdminKey(config.stateDir);
  if (key === undefined) throw new Error('give --key (a key with the read scope)');
  if (values['seed-history']) {
    await seedHistory(values.url, key);
    // The stream processor needs a moment to store them.
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  mkdirSync(values.out, { recursive: true });
  const browser = await launchBrowser();
  try {
    const shots = [
      { file: 'dashboard.png', locale: 'en-GB', width: 1280, height: 800 },
      { file: 'dashboard-phone-da.png', locale: 'da-DK', width: 390, height: 844 },
    ];
    for (const shot of shots) {
      const { page, context, trouble } = await newPage(browser, shot);
      await page.goto(`${values.url}/?surveyId=demo&window=24h`);
      await page.locator('input[name="apiKey"]').fill(key);
      await page.locator('#sign-in-form button[type="submit"]').click();
      await page.locator('#trend-chart canvas').waitFor();
      await page.locator('#feed li').first().waitFor();
      // Let the live tiles and the slower panels settle.
      await page.waitForTimeout(2500);
      await page.screenshot({ path: join(values.out, shot.file), fullPage: true });
      if (trouble.messages.length > 0)
        console.error(`${shot.file}: ${trouble.messages.join('\n')}`);
      console.log(`wrote ${join(values.out, shot.file)}`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
