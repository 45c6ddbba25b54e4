import { describe, expect, it } from 'vitest';
import { batch, expected, historyTotals, sumCounts } from '../support/counts.js';
import type { Counts } from '../support/counts.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  eventually,
  pipelineEnv,
  replayFromStart,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';
import { clickhouse } from '../support/services.js';

describe('history under replay', () => {
  it('stores each response once without FINAL, and a replay restores rollups that a crash cut off after the base rows', async () => {
    const env = pipelineEnv();
    const pipeline = await startPipeline(undefined, env);
    const { config } = pipeline;
    const surveyId = uniqueName('rollups');
    const total = 60;
    const posted = await api(pipeline.url, '/v1/responses', {
      key: INGEST_KEY,
      body: batch(surveyId, 0, total),
    });
    expect(posted.status).toBe(202);
    await drained(config);
    await eventually(
      () => historyTotals(pipeline.url, surveyId),
      (t) => t.responses === total,
    );

    // What a kill -9 between the base part and the rollup parts of one insert leaves behind:
    // every response stored, none in the rollups.
    const db = { db: config.clickhouseDatabase };
    for (const table of ['responses_hourly', 'responses_daily']) {
      await clickhouse().command({
        query: `TRUNCATE TABLE {db:Identifier}.${table}`,
        query_params: db,
      });
    }
    expect((await historyTotals(pipeline.url, surveyId)).responses).toBe(0);

    const replayed = await replayFromStart(pipeline, env);
    expect(
      await eventually(
        () => historyTotals(replayed.url, surveyId),
        (t) => t.responses >= total,
      ),
    ).toEqual(expected(total));
    const rows = await (
      await clickhouse().query({
        query: 'SELECT count() AS n FROM {db:Identifier}.responses WHERE survey_id = {s:String}',
        query_params: { ...db, s: surveyId },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    expect(rows).toEqual([{ n: String(total) }]);
  });

  it('a respondent erased between a crash and its replay is counted nowhere: not in the base table, the hourly or daily rollup, or the data-team views', async () => {
    const env = pipelineEnv();
    const pipeline = await startPipeline(undefined, env);
    const { config } = pipeline;
    const surveyId = uniqueName('erased-replay');
    const kept = 40;
    // Six answers of one respondent, between the others: scores 0, 2, 4, 6, 8, 10.
    const theirs = Array.from({ length: 6 }, (_, i) => ({
      surveyId,
      responseId: `x-${i}`,
      score: 2 * i,
      respondentId: 'customer-4711',
    }));
    const posted = await api(pipeline.url, '/v1/responses', {
      key: INGEST_KEY,
      body: [...batch(surveyId, 0, kept / 2), ...theirs, ...batch(surveyId, kept / 2, kept / 2)],
    });
    expect(posted.status).toBe(202);
    await drained(config);
    await eventually(
      () => historyTotals(pipeline.url, surveyId),
      (t) => t.responses === kept + theirs.length,
    );

    // A kill -9 cut the hourly rollup off (the daily one landed); then the erasure came.
    const db = { db: config.clickhouseDatabase };
    await clickhouse().command({
      query: 'TRUNCATE TABLE {db:Identifier}.responses_hourly',
      query_params: db,
    });
    const erased = await api(pipeline.url, '/v1/respondents/customer-4711', {
      key: ADMIN_KEY,
      method: 'DELETE',
    });
    expect(erased.body).toMatchObject({ historyResponsesDeleted: theirs.length });

    const replayed = await replayFromStart(pipeline, env);
    // And more answers after the replay, so the rollups' fences pass the erased offsets.
    await api(replayed.url, '/v1/responses', { key: INGEST_KEY, body: batch(surveyId, kept, 20) });
    await drained(config);
    const want = expected(kept + 20);
    expect(
      await eventually(
        () => historyTotals(replayed.url, surveyId),
        (t) => t.responses >= want.responses,
      ),
    ).toEqual(want);
    const from = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const daily = (
      await api(replayed.url, `/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=day`, {
        key: READ_KEY,
      })
    ).body.series as Counts[];
    expect(sumCounts(daily)).toEqual(want);
    for (const view of ['history_hourly', 'history_daily']) {
      const [row] = await (
        await clickhouse().query({
          query: `SELECT sum(responses) AS r, sum(promoters) AS p, sum(passives) AS s,
                         sum(detractors) AS d
                  FROM {db:Identifier}.${view} WHERE survey_id = {s:String}`,
          query_params: { ...db, s: surveyId },
          format: 'JSONEachRow',
        })
      ).json<Record<'r' | 'p' | 's' | 'd', string>>();
      expect({
        responses: Number(row?.r),
        promoters: Number(row?.p),
        passives: Number(row?.s),
        detractors: Number(row?.d),
      }).toEqual(want);
    }
  });
});
