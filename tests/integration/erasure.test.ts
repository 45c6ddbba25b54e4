import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { historyTotals, liveCounts } from '../support/counts.js';
import type { Counts } from '../support/counts.js';
import { clickhouse, redis } from '../support/services.js';
import { nastyString } from '../support/hostile.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  eventually,
  pipelineEnv,
  rebuildLiveIn,
  replayFromStart,
  resetToStart,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

const HOUR = 3_600_000;
const KARI = 'Kari.Nordmann@example.no';

interface Row {
  respondent_id: string | null;
  comment: string | null;
  received_at: number;
  response_id: string;
}

type StoredRow = Omit<Row, 'received_at'> & { received_at: string | number };

async function storedRows(config: Config, surveyId: string): Promise<Row[]> {
  const result = await clickhouse().query({
    query: `SELECT respondent_id, comment, toUnixTimestamp64Milli(received_at) AS received_at, response_id
            FROM {db:Identifier}.responses FINAL WHERE survey_id = {surveyId:String}`,
    format: 'JSONEachRow',
    query_params: { db: config.clickhouseDatabase, surveyId },
  });
  return (await result.json<StoredRow>()).map((r) => ({
    ...r,
    received_at: Number(r.received_at),
  }));
}

/** History over the last 60 days, daily buckets (reaches responses older than any live window). */
async function allHistory(url: string, surveyId: string): Promise<number> {
  const from = new Date(Date.now() - 60 * 24 * HOUR).toISOString();
  const { body } = await api(url, `/v1/nps/history?surveyId=${surveyId}&from=${from}`, {
    key: READ_KEY,
  });
  return ((body.series ?? []) as Counts[]).reduce((n, b) => n + b.responses, 0);
}

// Dots encoded too, or a client would resolve an id of '..' as a path step.
const erase = (url: string, respondentId: string, key = ADMIN_KEY) =>
  api(url, `/v1/respondents/${encodeURIComponent(respondentId).replaceAll('.', '%2E')}`, {
    method: 'DELETE',
    key,
  });

describe('erasure', () => {
  it('removes a respondent from history and live windows, and neither a Kafka replay nor a Redis rebuild brings them back', async () => {
    const env = pipelineEnv();
    const pipeline = await startPipeline(undefined, env);
    const { url, config } = pipeline;
    const surveyId = uniqueName('erase');
    const now = Date.now();
    const kari = [
      { score: 2, comment: 'Alt for lang ventetid, ingen ringede tilbage', at: now - HOUR },
      { score: 3, comment: 'Stadig ingen svar', at: now - 3 * HOUR, channel: 'sms' },
      { score: 9, comment: null, at: now - 2 * 24 * HOUR, channel: 'email' },
      { score: 1, comment: 'Gammel klage', at: now - 40 * 24 * HOUR },
    ].map((r, i) => ({
      surveyId,
      responseId: `kari-${i}`,
      respondentId: KARI,
      score: r.score,
      comment: r.comment,
      channel: r.channel ?? 'web',
      respondedAt: new Date(r.at).toISOString(),
    }));
    const others = [
      { surveyId, responseId: 'crm-1', respondentId: 'crm-000042', score: 10, comment: 'Top' },
      { surveyId, responseId: 'crm-2', respondentId: 'crm-000042', score: 8 },
      ...Array.from({ length: 5 }, (_, i) => ({ surveyId, responseId: `anon-${i}`, score: 6 + i })),
    ];
    expect(
      (await api(url, '/v1/responses', { key: INGEST_KEY, body: [...kari, ...others] })).status,
    ).toBe(202);
    await drained(config);
    expect((await liveCounts(url, surveyId, '30d')).responses).toBe(10); // the 40-day-old one is not live
    expect(
      await eventually(
        () => allHistory(url, surveyId),
        (n) => n === 11,
      ),
    ).toBe(11);

    expect((await erase(url, KARI, READ_KEY)).status).toBe(403);
    expect((await erase(url, KARI, 'no-such-key-0123456789')).status).toBe(401);
    const erased = await erase(url, KARI);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ historyResponsesDeleted: 4, liveResponsesRemoved: 3 });
    expect(erased.body.respondentId).toMatch(/^r_/); // the pseudonym, never the email
    expect(JSON.stringify(erased.body)).not.toContain('example.no');

    const gone = async (base: string) => {
      const rows = await storedRows(config, surveyId);
      expect(rows.map((r) => r.response_id).sort()).toEqual(others.map((o) => o.responseId).sort());
      expect(rows.some((r) => r.comment?.includes('ventetid'))).toBe(false);
      expect(await liveCounts(base, surveyId, '30d')).toMatchObject({
        responses: 7,
        promoters: 3,
        passives: 3,
        detractors: 1,
      });
      expect(await allHistory(base, surveyId)).toBe(7);
      expect(await historyTotals(base, surveyId)).toMatchObject({ responses: 7, detractors: 1 });
    };
    await gone(url);
    // Repeating is safe and finds nothing more.
    expect((await erase(url, KARI)).body).toMatchObject({
      historyResponsesDeleted: 0,
      liveResponsesRemoved: 0,
    });

    // Kafka replays the whole topic into a fresh processor: the records are still in the log.
    const replayed = await replayFromStart(pipeline, env);
    await gone(replayed.url);
    await expect(storedRows(config, surveyId)).resolves.toHaveLength(7);

    // Redis loses everything; rebuild-live from ClickHouse, then Kafka replays again.
    await replayed.close();
    const { client } = await redis();
    const keys = await client.keys(`${config.redisPrefix}*`);
    await client.del(...keys);
    await rebuildLiveIn(config, client);
    await resetToStart(config);
    const rebuilt = await startPipeline(undefined, env);
    await drained(config, 60_000);
    await gone(rebuilt.url);

    // Erasure is of what was received up to it: the same person answering again later counts.
    expect(
      (
        await api(rebuilt.url, '/v1/responses', {
          key: INGEST_KEY,
          body: { surveyId, score: 10, respondentId: KARI.toUpperCase() },
        })
      ).status,
    ).toBe(202);
    await drained(config);
    expect(await liveCounts(rebuilt.url, surveyId, '30d')).toMatchObject({
      responses: 8,
      promoters: 4,
    });
  });

  it('erasing respondents while their responses stream in leaves no stored response of theirs from before the cut, and live agrees with history', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('erase-live');
    const respondents = Array.from({ length: 12 }, (_, i) => `crm-${String(i).padStart(4, '0')}`);
    const erasedIds = respondents.slice(0, 4);
    let next = 0;
    const post = async () => {
      const body = Array.from({ length: 60 }, () => {
        const n = next++;
        return {
          surveyId,
          responseId: `s-${n}`,
          respondentId: respondents[n % respondents.length],
          score: n % 11,
        };
      });
      expect((await api(url, '/v1/responses', { key: INGEST_KEY, body })).status).toBe(202);
    };
    const streaming = (async () => {
      for (let b = 0; b < 40; b++) await post();
    })();
    await eventually(
      async () => (await liveCounts(url, surveyId)).responses,
      (n) => n >= 300,
    );
    const cuts = new Map<string, number>();
    const answers = await Promise.all(erasedIds.map((id) => erase(url, id)));
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      cuts.set(erasedIds[i] ?? '', Date.parse(String(a.body.erasedBefore)));
    });
    await streaming;
    const total = next;
    await drained(config, 60_000);

    const rows = await eventually(
      () => storedRows(config, surveyId),
      () => true,
    );
    for (const row of rows) {
      const cut = cuts.get(row.respondent_id ?? '');
      if (cut !== undefined) expect(row.received_at).toBeGreaterThan(cut);
    }
    const kept = rows.length;
    const perRespondent = total / respondents.length;
    // Everyone not erased is complete; some erased ones answered again after their cut.
    expect(rows.filter((r) => !cuts.has(r.respondent_id ?? ''))).toHaveLength(
      perRespondent * (respondents.length - erasedIds.length),
    );
    expect(kept).toBeLessThan(total);
    expect((await liveCounts(url, surveyId)).responses).toBe(kept);
    expect(
      await eventually(
        () => historyTotals(url, surveyId),
        (t) => t.responses === kept,
      ),
    ).toMatchObject({ responses: kept });
  });

  it('refuses other scopes, an admin key restricted to surveys, and ids ingest would refuse; hostile ids never fail on our side', async () => {
    const base = pipelineEnv();
    const env = {
      ...base,
      NPS_API_KEYS: `${base.NPS_API_KEYS ?? ''},restricted-admin-key-0123:admin:some-survey`,
    };
    const { url } = await startPipeline(undefined, env);
    const restricted = await erase(url, 'crm-1', 'restricted-admin-key-0123');
    expect(restricted.status).toBe(403);
    expect(restricted.body.detail).toContain('not restricted to surveys');
    for (const bad of [' ', 'a'.repeat(321), 'crm\u0000-1', 'x\u001b[31m']) {
      const res = await erase(url, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    await fc.assert(
      fc.asyncProperty(nastyString, async (id) => {
        // '.' and '..' cannot be sent as a path segment: a WHATWG URL resolves them (even as
        // %2E) before the request leaves, so the request is for another path (README, Erasure).
        fc.pre(id !== '' && id !== '.' && id !== '..');
        expect((await erase(url, id, INGEST_KEY)).status).toBe(403);
        const res = await erase(url, id);
        expect([200, 400]).toContain(res.status);
        if (res.status === 400) expect(res.body.title).toBeDefined();
      }),
      { numRuns: 40 },
    );
    expect((await api(url, '/healthz')).status).toBe(200);
  });
});
