import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizedResponse } from '../../src/domain/response.js';
import type { Channel } from '../../src/domain/response.js';
import { History } from '../../src/storage/history.js';
import type { StoredResponse } from '../../src/storage/history.js';
import { migrate } from '../../src/storage/migrations.js';
import { clickhouse, clickhouseDatabase, uniqueName } from '../support/services.js';

// Listed from the folder here, not through the module under test.
const MIGRATION_FILES = readdirSync(new URL('../../schemas/clickhouse/', import.meta.url))
  .filter((f) => /^\d+_.+\.sql$/.test(f))
  .sort()
  .map((f) => f.replace(/\.sql$/, ''));

const DAY = Date.UTC(2026, 10, 22);
const HOUR = 3_600_000;

describe('History on the migrated schema', () => {
  it('migrations apply each once, in order, and a second run applies nothing', async () => {
    const database = await clickhouseDatabase();
    expect(await migrate(clickhouse(), database)).toEqual(MIGRATION_FILES);
    expect(await migrate(clickhouse(), database)).toEqual([]);
    const recorded = await (
      await clickhouse().query({
        query: 'SELECT name FROM {db:Identifier}.schema_migrations FINAL ORDER BY version',
        query_params: { db: database },
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>();
    expect(recorded.map((r) => r.name)).toEqual(MIGRATION_FILES);
  });

  it('stored responses, a hostile survey id among them, come back as daily and hourly counts, per channel, with the fences', async () => {
    const database = await clickhouseDatabase();
    await migrate(clickhouse(), database);
    const history = new History(clickhouse(), database);
    const topic = uniqueName('history');
    // Quotes and a semicolon must be stored and matched verbatim, through query parameters.
    const hostile = `o'brien"; DROP TABLE x; --`;
    const answers: [survey: string, score: number, channel: Channel, at: number][] = [
      [hostile, 10, 'web', DAY + 10 * HOUR],
      [hostile, 9, 'sms', DAY + 10 * HOUR + 5],
      [hostile, 3, 'sms', DAY + 11 * HOUR],
      [hostile, 7, 'email', DAY + 24 * HOUR + 1],
      ['other', 9, 'web', DAY + 10 * HOUR],
    ];
    const rows: StoredResponse[] = answers.map(([surveyId, score, channel, at], i) => ({
      response: normalizedResponse({
        responseId: `r${i}`,
        surveyId,
        channel,
        score,
        respondedAt: at,
        receivedAt: at,
      }),
      partition: 0,
      offset: String(100 + i),
    }));
    await history.insert(rows, topic);

    const daily = await history.series({
      surveyId: hostile,
      from: DAY,
      to: DAY + 2 * 24 * HOUR,
      interval: 'day',
      byChannel: false,
    });
    expect(daily).toEqual([
      { start: DAY, promoters: 2, passives: 0, detractors: 1 },
      { start: DAY + 24 * HOUR, promoters: 0, passives: 1, detractors: 0 },
    ]);
    const hourly = await history.series({
      surveyId: hostile,
      from: DAY,
      to: DAY + 24 * HOUR,
      interval: 'hour',
      byChannel: true,
    });
    expect(hourly).toEqual([
      { start: DAY + 10 * HOUR, channel: 'sms', promoters: 1, passives: 0, detractors: 0 },
      { start: DAY + 10 * HOUR, channel: 'web', promoters: 1, passives: 0, detractors: 0 },
      { start: DAY + 11 * HOUR, channel: 'sms', promoters: 0, passives: 0, detractors: 1 },
    ]);

    // Every row is in November 2026; the highest offset is the last one's.
    const fences = await history.fences(topic, 0);
    for (const table of ['responses', 'hourly', 'daily'] as const) {
      expect([...fences[table]], table).toEqual([[202611, 104n]]);
    }
    expect([...(await history.fences(topic, 1)).responses]).toEqual([]);
  });
});
