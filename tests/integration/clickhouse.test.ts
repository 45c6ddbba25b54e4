import { describe, expect, it } from 'vitest';
import { clickhouse, clickhouseDatabase } from '../support/services.js';

describe('ClickHouse', () => {
  it('rows inserted as JSONEachRow into a MergeTree table are read back through query parameters', async () => {
    const database = await clickhouseDatabase();
    const client = clickhouse();
    await client.command({
      query: `CREATE TABLE ${database}.responses (
        response_id String,
        survey_id LowCardinality(String),
        score UInt8,
        responded_at DateTime64(3, 'UTC')
      ) ENGINE = MergeTree ORDER BY (survey_id, responded_at, response_id)`,
    });

    // A survey id with quotes and a semicolon must be stored and matched verbatim.
    const hostile = `o'brien"; DROP TABLE x; --`;
    await client.insert({
      table: `${database}.responses`,
      format: 'JSONEachRow',
      values: [
        {
          response_id: 'a',
          survey_id: hostile,
          score: 10,
          responded_at: '2026-11-22 10:00:00.000',
        },
        { response_id: 'b', survey_id: hostile, score: 3, responded_at: '2026-11-22 10:05:00.000' },
        { response_id: 'c', survey_id: 'other', score: 9, responded_at: '2026-11-22 10:06:00.000' },
      ],
    });

    const result = await client.query({
      query: `SELECT survey_id, count() AS n, countIf(score >= 9) AS promoters
              FROM ${database}.responses
              WHERE survey_id = {survey:String}
              GROUP BY survey_id`,
      query_params: { survey: hostile },
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ survey_id: hostile, n: '2', promoters: '1' }]);
  });
});
