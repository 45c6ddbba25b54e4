import { READ_KEY, api } from './pipeline.js';

export type Counts = { responses: number; promoters: number; passives: number; detractors: number };

/** `count` responses with ids r-<from>..: score i % 11, channels in turn. */
export function batch(surveyId: string, from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    surveyId,
    responseId: `r-${from + i}`,
    score: (from + i) % 11,
    channel: (['web', 'sms', 'email'] as const)[(from + i) % 3],
  }));
}

/** The counts of responses r-0 .. r-<total - 1> from `batch`. */
export function expected(total: number): Counts {
  const scores = Array.from({ length: total }, (_, i) => i % 11);
  return {
    responses: total,
    promoters: scores.filter((s) => s >= 9).length,
    passives: scores.filter((s) => s === 7 || s === 8).length,
    detractors: scores.filter((s) => s <= 6).length,
  };
}

/** A live window's counts (24h unless told), read through the API. */
export async function liveCounts(url: string, surveyId: string, window = '24h'): Promise<Counts> {
  const { body } = await api(url, `/v1/nps/live?surveyId=${surveyId}&window=${window}`, {
    key: READ_KEY,
  });
  return body as Counts;
}

/** The sum of the last two hours of hourly history, read through the API. */
export async function historyTotals(url: string, surveyId: string): Promise<Counts> {
  const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
  const { body } = await api(
    url,
    `/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=hour`,
    { key: READ_KEY },
  );
  return sumCounts((body.series ?? []) as Counts[]);
}

/** The counts of several buckets together. */
export function sumCounts(buckets: readonly Counts[]): Counts {
  return buckets.reduce(
    (t, b) => ({
      responses: t.responses + b.responses,
      promoters: t.promoters + b.promoters,
      passives: t.passives + b.passives,
      detractors: t.detractors + b.detractors,
    }),
    { responses: 0, promoters: 0, passives: 0, detractors: 0 },
  );
}
