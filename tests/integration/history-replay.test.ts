import { describe, expect, it } from 'vitest';
import { batch, expected, historyTotals } from '../support/counts.js';
import {
  INGEST_KEY,
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
});
