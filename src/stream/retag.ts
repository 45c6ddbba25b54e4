import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Tagger } from '../themes/tagger.js';

export interface RetagOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly tagger: Tagger;
  /** Only responses given at or after this instant (epoch ms); all when null. */
  readonly since: number | null;
  /**
   * Responses tagged per mutation: the new tags wait in memory (a Join table) until one
   * `ALTER TABLE … UPDATE` writes them.
   * @default 100000
   */
  readonly batchSize?: number;
  readonly log?: (message: string) => void;
}

const PAGE = 5000;

/**
 * Brings the stored tags up to the current taxonomy: every commented response whose
 * `taxonomy_version` differs from the tagger's is tagged again and updated in place by a mutation,
 * so no row is ever inserted twice and the counts are untouched. A run that stops half-way leaves
 * every row with either its old tags or its new ones; running it again does the rest, and a run
 * with nothing left to do changes nothing. Returns how many responses it tagged.
 */
export async function retag(options: RetagOptions): Promise<number> {
  const { client, database, tagger } = options;
  const batchSize = options.batchSize ?? 100_000;
  const join = `retag_${randomUUID().replaceAll('-', '')}`;
  const params = { database, join };
  await client.command({
    query: `CREATE TABLE {database:Identifier}.{join:Identifier}
            (response_id String, language Nullable(String), themes Array(String),
             taxonomy_version String)
            ENGINE = Join(ANY, LEFT, response_id)`,
    query_params: params,
  });
  let tagged = 0;
  let pending = 0;
  const flush = async () => {
    if (pending === 0) return;
    // The version is never empty, so it tells the responses in the Join table from the rest.
    await client.command({
      query: `ALTER TABLE {database:Identifier}.responses UPDATE
                language = joinGet({qualified:String}, 'language', response_id),
                themes = joinGet({qualified:String}, 'themes', response_id),
                taxonomy_version = joinGet({qualified:String}, 'taxonomy_version', response_id)
              WHERE joinGet({qualified:String}, 'taxonomy_version', response_id) != ''`,
      query_params: { database, qualified: `${database}.${join}` },
      clickhouse_settings: { mutations_sync: '2' },
    });
    await client.command({
      query: 'TRUNCATE TABLE {database:Identifier}.{join:Identifier}',
      query_params: params,
    });
    options.log?.(`retagged ${tagged} responses`);
    pending = 0;
  };
  try {
    let after = { surveyId: '', responseId: '' };
    for (;;) {
      // In primary-key order, so each page is a range read; a row a replay stored twice comes
      // back twice in a row, and is tagged once.
      const result = await client.query({
        query: `SELECT survey_id, response_id, comment, locale
                FROM {database:Identifier}.responses
                WHERE comment IS NOT NULL AND taxonomy_version != {version:String}
                  AND (survey_id, response_id) > ({survey:String}, {response:String})
                  ${options.since === null ? '' : "AND responded_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')"}
                ORDER BY survey_id, response_id LIMIT {page:UInt32}`,
        format: 'JSONEachRow',
        query_params: {
          database,
          version: tagger.version,
          survey: after.surveyId,
          response: after.responseId,
          since: options.since ?? 0,
          page: PAGE,
        },
      });
      const rows = await result.json<{
        survey_id: string;
        response_id: string;
        comment: string;
        locale: string | null;
      }>();
      if (rows.length === 0) break;
      const values = [];
      for (const row of rows) {
        if (row.response_id === after.responseId && row.survey_id === after.surveyId) continue;
        after = { surveyId: row.survey_id, responseId: row.response_id };
        const tags = tagger.tag(row.comment, row.locale);
        values.push({
          response_id: row.response_id,
          language: tags.language,
          themes: tags.themes,
          taxonomy_version: tagger.version,
        });
      }
      const last = rows.at(-1);
      if (last) after = { surveyId: last.survey_id, responseId: last.response_id };
      if (values.length > 0) {
        await client.insert({ table: `${database}.${join}`, format: 'JSONEachRow', values });
        tagged += values.length;
        pending += values.length;
      }
      if (pending >= batchSize) await flush();
      if (rows.length < PAGE) break;
    }
    await flush();
  } finally {
    await client.command({
      query: 'DROP TABLE IF EXISTS {database:Identifier}.{join:Identifier}',
      query_params: params,
    });
  }
  return tagged;
}
