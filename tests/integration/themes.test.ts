import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/config.js';
import { childEnv, exited, runCli, startChild } from '../support/child.js';
import { clickhouse, kafka } from '../support/services.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  READ_KEY,
  api,
  cleanupPipeline,
  drained,
  pipelineEnv,
  replayFromStart,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

/** The default taxonomy's data file: labels and version as a client would read them. */
const TAXONOMY = JSON.parse(
  readFileSync(new URL('../../schemas/taxonomy/default.json', import.meta.url), 'utf8'),
) as { version: string; themes: { id: string; labels: Record<string, string> }[] };

interface Given {
  score: number;
  comment?: string;
  channel?: 'web' | 'sms' | 'email';
  respondentId?: string;
  /** What a reader finds the comment to be about, written here by hand. */
  themes: string[];
}

// Plain comments in Danish, Swedish and English whose themes no careful reader would dispute.
const GIVEN: Given[] = [
  {
    score: 2,
    comment: 'Pakken kom fem dage for sent og ingen svarede i kundeservice',
    themes: ['delivery', 'customer_service'],
  },
  { score: 3, comment: 'Alt for dyrt, og leveringen tog evigheder', themes: ['price', 'delivery'] },
  {
    score: 0,
    comment: 'Varen var i stykker og kvaliteten er elendig, ring mig på 20 12 34 56',
    themes: ['product_quality'],
    channel: 'sms',
  },
  {
    score: 4,
    comment: 'Kundtjänsten var otrevlig och hjälpte inte alls',
    themes: ['customer_service'],
    channel: 'sms',
  },
  { score: 5, comment: 'Leveransen var sen och paketet kom aldrig fram', themes: ['delivery'] },
  {
    score: 7,
    comment: 'Bra priser men appen kraschar hela tiden',
    themes: ['price', 'website_app'],
    channel: 'email',
  },
  { score: 8, comment: 'Fair price, and the delivery was quick', themes: ['price', 'delivery'] },
  {
    score: 10,
    comment: 'Fast delivery and friendly support staff',
    themes: ['delivery', 'customer_service'],
    channel: 'email',
  },
  { score: 9, comment: 'Great quality, will buy again', themes: ['product_quality'] },
  { score: 9, comment: 'Love it', themes: [] },
  {
    score: 10,
    comment: 'Super god service og hurtig levering, skriv til anna@example.dk',
    themes: ['customer_service', 'delivery'],
    respondentId: 'crm-anna-1',
  },
  {
    score: 1,
    comment: 'The refund took six weeks and the invoice was wrong',
    themes: ['returns_refunds', 'billing'],
    channel: 'email',
  },
  { score: 10, themes: [] },
  { score: 9, themes: [], channel: 'sms' },
  { score: 6, themes: [] },
  { score: 8, themes: [] },
  { score: 7, comment: 'Fint nok', themes: [] },
];

type Tally = { promoters: number; passives: number; detractors: number };

function tally(items: readonly Given[]): Tally {
  return {
    promoters: items.filter((g) => g.score >= 9).length,
    passives: items.filter((g) => g.score === 7 || g.score === 8).length,
    detractors: items.filter((g) => g.score <= 6).length,
  };
}

function nps(t: Tally): number | null {
  const n = t.promoters + t.passives + t.detractors;
  return n === 0 ? null : (100 * (t.promoters - t.detractors)) / n;
}

/** What /v1/nps/themes must say of these responses, computed from them alone. */
function expectedThemes(items: readonly Given[]) {
  const overall = nps(tally(items));
  const ids = [...new Set(items.flatMap((g) => g.themes))];
  return ids.map((theme) => {
    const mentioning = items.filter((g) => g.themes.includes(theme));
    const rest = items.filter((g) => !g.themes.includes(theme));
    const without = nps(tally(rest));
    return {
      theme,
      mentions: mentioning.length,
      ...tally(mentioning),
      npsWith: nps(tally(mentioning)),
      npsWithout: without,
      impact: overall === null || without === null ? null : overall - without,
    };
  });
}

/** Within the one-decimal rounding of the API. */
function near(actual: unknown, exact: number | null): boolean {
  if (exact === null) return actual === null;
  return typeof actual === 'number' && Math.abs(actual - exact) <= 0.05 + 1e-9;
}

interface ThemeRow {
  theme: string;
  label: string;
  mentions: number;
  promoters: number;
  passives: number;
  detractors: number;
  npsWith: number | null;
  npsWithout: number | null;
  impact: number | null;
  impactMarginOfError: number | null;
  examples: { responseId: string; comment: string; score: number; respondedAt: string }[];
}

function checkThemes(body: Record<string, unknown>, items: readonly Given[]): void {
  const rows = body.themes as ThemeRow[];
  const expected = expectedThemes(items);
  expect(rows.map((r) => r.theme).sort()).toEqual(expected.map((e) => e.theme).sort());
  for (const e of expected) {
    const row = rows.find((r) => r.theme === e.theme);
    expect(row, e.theme).toMatchObject({
      mentions: e.mentions,
      promoters: e.promoters,
      passives: e.passives,
      detractors: e.detractors,
    });
    expect(near(row?.npsWith, e.npsWith), `${e.theme} npsWith ${row?.npsWith}`).toBe(true);
    expect(near(row?.npsWithout, e.npsWithout), `${e.theme} npsWithout`).toBe(true);
    expect(near(row?.impact, e.impact), `${e.theme} impact ${row?.impact} vs ${e.impact}`).toBe(
      true,
    );
    expect(row?.impactMarginOfError ?? 0).toBeGreaterThan(0);
  }
  // Most negative impact first.
  const impacts = rows.map((r) => r.impact ?? Infinity);
  expect(impacts).toEqual([...impacts].sort((a, b) => a - b));
}

async function storedRows(config: Config, surveyId: string) {
  const result = await clickhouse().query({
    query: `SELECT response_id, comment, language, themes, taxonomy_version
            FROM {db:Identifier}.responses FINAL WHERE survey_id = {s:String} ORDER BY response_id`,
    query_params: { db: config.clickhouseDatabase, s: surveyId },
    format: 'JSONEachRow',
  });
  return result.json<{
    response_id: string;
    comment: string | null;
    language: string | null;
    themes: string[];
    taxonomy_version: string;
  }>();
}

/** Every record value on the topic, as raw bytes. */
async function topicBytes(topic: string, count: number): Promise<Buffer[]> {
  const consumer = kafka().consumer({ groupId: `test-reader-${randomUUID()}` });
  await consumer.connect();
  onTestFinished(() => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: Buffer[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) values.push(message.value);
        if (values.length >= count) resolve();
        return Promise.resolve();
      },
    });
  });
  return values;
}

describe('comment themes', () => {
  it('tags comments in the stream and reports what each theme costs, exactly, through erasure and a replay', async () => {
    const env = pipelineEnv();
    const pipeline = await startPipeline(undefined, env);
    const { url, config } = pipeline;
    const surveyId = uniqueName('themes');
    const start = Date.now() - 3_600_000;
    const items = GIVEN.map((g, i) => ({ ...g, responseId: `t-${String(i).padStart(2, '0')}` }));
    const posted = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: items.map((g, i) => ({
        surveyId,
        responseId: g.responseId,
        score: g.score,
        ...(g.comment !== undefined && { comment: g.comment }),
        channel: g.channel ?? 'web',
        ...(g.respondentId !== undefined && { respondentId: g.respondentId }),
        // A minute apart, in order, so "most recent" is defined.
        respondedAt: new Date(start + i * 60_000).toISOString(),
      })),
    });
    expect(posted.status).toBe(202);
    await drained(config);

    // Contacts written in a comment never reach Kafka or ClickHouse.
    const raw = Buffer.concat(await topicBytes(config.topic, items.length)).toString('latin1');
    expect(raw).not.toContain('20 12 34 56');
    expect(raw).not.toContain('anna@example.dk');
    const rows = await storedRows(config, surveyId);
    expect(rows).toHaveLength(items.length);
    for (const row of rows) {
      const given = items.find((g) => g.responseId === row.response_id);
      expect(row.themes.sort(), row.comment ?? '').toEqual([...(given?.themes ?? [])].sort());
      expect(row.taxonomy_version).toBe(given?.comment === undefined ? '' : TAXONOMY.version);
    }
    expect(rows.find((r) => r.response_id === 't-02')?.comment).toContain('[phone]');
    expect(rows.find((r) => r.response_id === 't-10')?.comment).toContain('[email]');
    expect(rows.find((r) => r.response_id === 't-03')?.language).toBe('sv');
    expect(rows.find((r) => r.response_id === 't-00')?.language).toBe('da');
    expect(rows.find((r) => r.response_id === 't-07')?.language).toBe('en');

    const from = new Date(start - 60_000).toISOString();
    const to = new Date(start + 2 * 3_600_000).toISOString();
    const themes = async (base: string, extra = '', headers: Record<string, string> = {}) =>
      api(base, `/v1/nps/themes?surveyId=${surveyId}&from=${from}&to=${to}${extra}`, {
        key: READ_KEY,
        headers,
      });
    const answer = await themes(url, '', { 'accept-language': 'da-DK,da;q=0.9,en;q=0.5' });
    expect(answer.status).toBe(200);
    const commented = items.filter((g) => g.comment !== undefined);
    expect(answer.body).toMatchObject({
      surveyId,
      responses: items.length,
      commented: commented.length,
      taxonomyVersion: TAXONOMY.version,
    });
    expect(near(answer.body.nps, nps(tally(items)))).toBe(true);
    checkThemes(answer.body, items);
    const rowsOf = (body: Record<string, unknown>) => body.themes as ThemeRow[];
    const delivery = rowsOf(answer.body).find((r) => r.theme === 'delivery');
    expect(delivery?.label).toBe(TAXONOMY.themes.find((t) => t.id === 'delivery')?.labels.da);
    // The three most recent delivery comments, newest first, masked.
    const deliveryIds = items
      .filter((g) => g.themes.includes('delivery'))
      .map((g) => g.responseId)
      .reverse()
      .slice(0, 3);
    expect(delivery?.examples.map((e) => e.responseId)).toEqual(deliveryIds);
    expect(delivery?.examples[0]?.comment).toContain('[email]');
    expect(delivery?.examples[0]?.comment).not.toContain('anna@');

    // Labels follow Accept-Language; one channel at a time.
    const swedish = await themes(url, '', { 'accept-language': 'sv' });
    expect(rowsOf(swedish.body).find((r) => r.theme === 'price')?.label).toBe(
      TAXONOMY.themes.find((t) => t.id === 'price')?.labels.sv,
    );
    const email = await themes(url, '&channel=email');
    expect(email.body).toMatchObject({ channel: 'email', responses: 3 });
    checkThemes(
      email.body,
      items.filter((g) => g.channel === 'email'),
    );

    // Bad input is named.
    const bad = await api(url, `/v1/nps/themes?surveyId=${surveyId}&from=yesterday&channel=fax`, {
      key: READ_KEY,
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body.detail)).toContain('from');
    expect(String(bad.body.detail)).toContain('channel');
    expect((await api(url, `/v1/nps/themes?surveyId=${surveyId}&from=${from}`)).status).toBe(401);

    // Erasure takes the respondent's comment, themes and example with it.
    const erased = await api(url, '/v1/respondents/crm-anna-1', {
      method: 'DELETE',
      key: ADMIN_KEY,
    });
    expect(erased.status).toBe(200);
    const remaining = items.filter((g) => g.respondentId !== 'crm-anna-1');
    const afterErasure = await themes(url);
    checkThemes(afterErasure.body, remaining);
    expect(JSON.stringify(afterErasure.body)).not.toContain('Super god service');

    // Kafka replays the whole topic into a fresh processor: nothing is tagged or counted twice,
    // and not because a background merge folded a repeated row (merges are stopped).
    const merges = (verb: 'STOP' | 'START') =>
      clickhouse().command({
        query: `SYSTEM ${verb} MERGES {db:Identifier}.responses`,
        query_params: { db: config.clickhouseDatabase },
      });
    await merges('STOP');
    onTestFinished(async () => {
      await merges('START').catch(() => undefined);
    });
    const replayed = await replayFromStart(pipeline, env);
    const afterReplay = await themes(replayed.url);
    expect(afterReplay.body).toEqual(afterErasure.body);
  });

  it('finds the words that set detractors apart, against the other categories or the period before', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('terms');
    const now = Date.now();
    const day = 86_400_000;
    // This week: five detractors about a broken coupon code, which nobody else mentions.
    const thisWeek = [
      ...Array.from({ length: 5 }, (_, i) => ({
        score: i,
        comment: ['Rabatkoden virker ikke', 'rabatkoden virkede ikke i kassen'][i % 2] ?? '',
      })),
      ...Array.from({ length: 6 }, (_, i) => ({ score: 9 + (i % 2), comment: 'Hurtig og nem' })),
      { score: 3, comment: 'Langsom hjemmeside' },
    ];
    const lastWeek = Array.from({ length: 6 }, (_, i) => ({
      score: i % 7,
      comment: 'Langsom hjemmeside',
    }));
    const body = [
      ...thisWeek.map((r, i) => ({ ...r, at: now - 2 * day + i * 1000 })),
      ...lastWeek.map((r, i) => ({ ...r, at: now - 9 * day + i * 1000 })),
    ].map((r, i) => ({
      surveyId,
      responseId: `terms-${i}`,
      score: r.score,
      comment: r.comment,
      respondedAt: new Date(r.at).toISOString(),
    }));
    expect((await api(url, '/v1/responses', { key: INGEST_KEY, body })).status).toBe(202);
    await drained(config);

    const from = new Date(now - 7 * day).toISOString();
    const to = new Date(now).toISOString();
    const vsOthers = await api(
      url,
      `/v1/nps/terms?surveyId=${surveyId}&from=${from}&to=${to}&category=detractor`,
      { key: READ_KEY },
    );
    expect(vsOthers.status).toBe(200);
    const detractorComments = thisWeek.filter((r) => r.score <= 6).length;
    expect(vsOthers.body).toMatchObject({
      category: 'detractor',
      compareTo: 'others',
      target: { comments: detractorComments, analysed: detractorComments },
      reference: { comments: thisWeek.length - detractorComments },
    });
    type Term = { term: string; stem: string; target: number; reference: number; z: number };
    const terms = vsOthers.body.terms as Term[];
    const coupon = terms.find((t) => t.term.startsWith('rabatkode'));
    expect(coupon).toMatchObject({ target: 5, reference: 0 });
    expect(terms[0]?.term.startsWith('rabatkode')).toBe(true);
    // Stopwords are never terms.
    expect(terms.map((t) => t.term)).not.toContain('ikke');

    // Against last week's detractors: the slow website is old news, the coupon code is new.
    const vsPrevious = await api(
      url,
      `/v1/nps/terms?surveyId=${surveyId}&from=${from}&to=${to}&category=detractor&compareTo=previous`,
      { key: READ_KEY },
    );
    expect(vsPrevious.body).toMatchObject({
      compareTo: 'previous',
      reference: { comments: lastWeek.filter((r) => r.score <= 6).length },
    });
    const previousTerms = vsPrevious.body.terms as Term[];
    expect(previousTerms[0]?.term.startsWith('rabatkode')).toBe(true);
    const slow = previousTerms.find((t) => t.term.startsWith('langsom'));
    if (slow) expect(slow.z).toBeLessThan(coupon?.z ?? 0);

    const bad = await api(
      url,
      `/v1/nps/terms?surveyId=${surveyId}&from=${from}&category=critics&compareTo=last`,
      { key: READ_KEY },
    );
    expect(bad.status).toBe(400);
    expect(String(bad.body.detail)).toContain('category');
    expect(String(bad.body.detail)).toContain('compareTo');
  });

  it('nps retag brings stored tags up to a new taxonomy, each response once, and counts stay the same', async () => {
    const env = childEnv(pipelineEnv());
    cleanupPipeline(env);
    const config = loadConfig({ ...process.env, ...env });
    let nps = await startChild([], env);
    const surveyId = uniqueName('retag');
    const day = 86_400_000;
    const now = Date.now();
    const given = [
      { comment: 'Rabatkoden virker ikke', score: 2, at: now - day },
      { comment: 'Pakken kom for sent', score: 5, at: now - day },
      { comment: 'Kupongen fungerade inte', score: 3, at: now - 10 * day },
      { comment: undefined, score: 9, at: now - day },
    ];
    const posted = await api(nps.url, '/v1/responses', {
      key: INGEST_KEY,
      body: given.map((g, i) => ({
        surveyId,
        responseId: `retag-${i}`,
        score: g.score,
        ...(g.comment !== undefined && { comment: g.comment }),
        respondedAt: new Date(g.at).toISOString(),
      })),
    });
    expect(posted.status).toBe(202);
    await drained(config);
    nps.process.kill('SIGTERM');
    expect(await exited(nps.process)).toBe(0);

    // A company's own taxonomy: coupons are a theme of their own now, delivery stays.
    const vocabulary = (terms: string[], parts: string[]) => ({ terms, parts, exclude: [] });
    const custom = {
      version: 'shop-2',
      themes: [
        {
          id: 'coupon',
          labels: { da: 'Rabatkode', sv: 'Rabattkod', en: 'Coupon' },
          da: vocabulary(['rabatkode', 'kupon'], ['rabatkode*', 'kupon*']),
          sv: vocabulary(['rabattkod', 'kupong'], ['rabattkod*', 'kupong*']),
          en: vocabulary(['coupon', 'voucher'], ['coupon*']),
        },
        {
          id: 'delivery',
          labels: { da: 'Levering', sv: 'Leverans', en: 'Delivery' },
          da: vocabulary(['levering', 'pakke'], ['pakke*', 'lever*']),
          sv: vocabulary(['leverans', 'paket'], ['paket*', 'leverans*']),
          en: vocabulary(['delivery', 'parcel'], ['deliver*']),
        },
      ],
    };
    const folder = mkdtempSync(join(tmpdir(), 'nps-taxonomy-'));
    onTestFinished(() => {
      rmSync(folder, { recursive: true, force: true });
    });
    const file = join(folder, 'taxonomy.json');
    writeFileSync(file, JSON.stringify(custom));
    const withCustom = { ...env, NPS_TAXONOMY: file };

    // Since five days ago: the two recent comments; the response without a comment needs none.
    const since = new Date(now - 5 * day).toISOString();
    const first = await runCli(['retag', '--since', since], withCustom);
    expect(first.output).toContain('retag: 2 responses now tagged by taxonomy shop-2');
    expect(first.code).toBe(0);
    const again = await runCli(['retag', '--since', since], withCustom);
    expect(again.output).toContain('retag: 0 responses');
    const rest = await runCli(['retag'], withCustom);
    expect(rest.output).toContain('retag: 1 responses');

    nps = await startChild([], withCustom);
    const from = new Date(now - 30 * day).toISOString();
    const answer = await api(nps.url, `/v1/nps/themes?surveyId=${surveyId}&from=${from}`, {
      key: READ_KEY,
    });
    expect(answer.body).toMatchObject({ responses: given.length, taxonomyVersion: 'shop-2' });
    const rows = (answer.body.themes as ThemeRow[]).map((r) => ({
      theme: r.theme,
      label: r.label,
      mentions: r.mentions,
    }));
    expect(rows.sort((a, b) => a.theme.localeCompare(b.theme))).toEqual([
      { theme: 'coupon', label: 'Coupon', mentions: 2 },
      { theme: 'delivery', label: 'Delivery', mentions: 1 },
    ]);
  });
});
