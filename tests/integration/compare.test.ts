import { describe, expect, it } from 'vitest';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

const DAY = 86_400_000;

/** Standard normal CDF by the Abramowitz-Stegun 7.1.26 erf approximation (error < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Mean and population variance of the +1/0/-1 answers of these scores. */
function moments(scores: readonly number[]): { mean: number; variance: number; n: number } {
  const values = scores.map((s): number => (s >= 9 ? 1 : s >= 7 ? 0 : -1));
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return { mean, variance, n };
}

describe('comparing two periods', () => {
  it('says whether NPS moved between two periods, with the margin and p-value of the difference, and never calls a low sample significant', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('compare');
    const now = Date.now();
    // Period a (two weeks ago): mostly promoters. Period b (last week): many more detractors.
    const before = Array.from({ length: 90 }, (_, i) => [10, 9, 9, 8, 7, 3][i % 6] ?? 0);
    const after = Array.from({ length: 80 }, (_, i) => [10, 8, 2, 4, 6, 9, 1, 0][i % 8] ?? 0);
    const at = (base: number, i: number) => new Date(base + i * 60_000).toISOString();
    const body = [
      ...before.map((score, i) => ({ score, respondedAt: at(now - 14 * DAY, i) })),
      ...after.map((score, i) => ({ score, respondedAt: at(now - 5 * DAY, i) })),
    ].map((r, i) => ({
      ...r,
      surveyId,
      responseId: `c-${i}`,
      channel: i % 5 === 0 ? 'sms' : 'web',
    }));
    expect((await api(url, '/v1/responses', { key: INGEST_KEY, body })).status).toBe(202);
    await drained(config);

    const range = (name: string, from: number, to: number) =>
      `&${name}From=${new Date(from).toISOString()}&${name}To=${new Date(to).toISOString()}`;
    const compare = async (extra: string) =>
      api(url, `/v1/nps/compare?surveyId=${surveyId}${extra}`, { key: READ_KEY });
    const periods =
      range('a', now - 15 * DAY, now - 8 * DAY) + range('b', now - 8 * DAY, now - 1 * DAY);
    const answer = await compare(periods);
    expect(answer.status).toBe(200);

    const a = moments(before);
    const b = moments(after);
    const difference = 100 * (b.mean - a.mean);
    const se = 100 * Math.sqrt(a.variance / a.n + b.variance / b.n);
    const z = difference / se;
    const pValue = 2 * normalCdf(-Math.abs(z));
    expect(answer.body.a).toMatchObject({
      responses: before.length,
      promoters: before.filter((s) => s >= 9).length,
      detractors: before.filter((s) => s <= 6).length,
      lowSample: false,
    });
    expect(answer.body.b).toMatchObject({ responses: after.length, lowSample: false });
    expect(Math.abs((answer.body.difference as number) - difference)).toBeLessThanOrEqual(0.05);
    expect(
      Math.abs((answer.body.differenceMarginOfError as number) - 1.96 * se),
    ).toBeLessThanOrEqual(0.05);
    expect(answer.body.z as number).toBeCloseTo(z, 6);
    expect(answer.body.pValue as number).toBeCloseTo(pValue, 5);
    expect(answer.body.significant).toBe(pValue < 0.05);
    expect(answer.body.significant).toBe(true);

    // One channel at a time: the sms responses alone, every fifth.
    const sms = await compare(`${periods}&channel=sms`);
    const smsBefore = before.filter((_, i) => i % 5 === 0);
    expect(sms.body.a).toMatchObject({ responses: smsBefore.length, lowSample: true });
    expect(sms.body.significant).toBe(false);

    // A few answers on one side: flagged, and never significant whatever the p-value says.
    const tiny = await compare(
      range('a', now - 15 * DAY, now - 14 * DAY + 5 * 60_000) +
        range('b', now - 8 * DAY, now - 1 * DAY),
    );
    expect(tiny.body.a).toMatchObject({ responses: 5, lowSample: true });
    expect(tiny.body.significant).toBe(false);

    // An empty side: nothing to compare.
    const empty = await compare(
      range('a', now - 40 * DAY, now - 30 * DAY) + range('b', now - 8 * DAY, now - 1 * DAY),
    );
    expect(empty.body).toMatchObject({ difference: null, pValue: null, significant: false });

    const bad = await compare(`&aFrom=yesterday&bFrom=${new Date(now).toISOString()}`);
    expect(bad.status).toBe(400);
    for (const field of ['aFrom', 'aTo', 'bTo']) expect(String(bad.body.detail)).toContain(field);
  });

  it('lists the surveys with responses and feeds the latest detractors, newest first', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('feed');
    const now = Date.now();
    const scores = [9, 2, 10, 0, 6, 8, 3, 5, 10, 1];
    const body = scores.map((score, i) => ({
      surveyId,
      responseId: `f-${i}`,
      score,
      comment: `comment ${i}`,
      respondedAt: new Date(now - (scores.length - i) * 60_000).toISOString(),
    }));
    expect((await api(url, '/v1/responses', { key: INGEST_KEY, body })).status).toBe(202);
    await drained(config);

    const surveys = await api(url, '/v1/surveys', { key: READ_KEY });
    expect(surveys.body.surveys).toContainEqual(
      expect.objectContaining({ surveyId, responses: scores.length }),
    );

    const feed = await api(url, `/v1/nps/feed?surveyId=${surveyId}&category=detractor&limit=4`, {
      key: READ_KEY,
    });
    const detractors = body.filter((r) => r.score <= 6).reverse();
    expect((feed.body.responses as { responseId: string }[]).map((r) => r.responseId)).toEqual(
      detractors.slice(0, 4).map((r) => r.responseId),
    );

    // Every score carries whether it rests on too few answers.
    const live = await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY });
    expect(live.body).toMatchObject({ responses: scores.length, lowSample: true });
  });
});
