import type { ClickHouseClient } from '@clickhouse/client';
import { classify } from '../domain/classification.js';
import type { Tally } from '../domain/nps.js';
import type { Channel, NpsResponse } from '../domain/response.js';

export const INTERVALS = ['hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

export interface HistoryRow extends Tally {
  /** Bucket start, epoch ms UTC. */
  readonly start: number;
  readonly channel?: Channel;
}

export interface StoredResponse {
  readonly response: NpsResponse;
  readonly partition: number;
  readonly offset: string;
}

function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

// Week buckets start on Monday (ISO 8601), as in the Nordic calendar.
const BUCKET_SQL: Record<Interval, { table: string; start: string; column: string }> = {
  hour: { table: 'responses_hourly', column: 'hour', start: 'hour' },
  day: { table: 'responses_daily', column: 'day', start: "toDateTime(day, 'UTC')" },
  week: { table: 'responses_daily', column: 'day', start: "toDateTime(toMonday(day), 'UTC')" },
  month: {
    table: 'responses_daily',
    column: 'day',
    start: "toDateTime(toStartOfMonth(day), 'UTC')",
  },
};

// The rollups fed by materialized views (schemas/clickhouse/001_responses.sql), as `purge`
// recomputes them: bucket expression, key column and its type.
const ROLLUPS = [
  {
    table: 'responses_hourly',
    column: 'hour',
    bucket: 'toStartOfHour',
    type: "DateTime('UTC')",
    keys: 'hours',
  },
  { table: 'responses_daily', column: 'day', bucket: 'toDate', type: 'Date', keys: 'days' },
] as const;

/** The full history of responses in ClickHouse and the rollups it is read from. */
export class History {
  readonly #client: ClickHouseClient;
  readonly #database: string;

  constructor(client: ClickHouseClient, database: string) {
    this.#client = client;
    this.#database = database;
  }

  /**
   * The highest Kafka offset stored from a partition of `topic`, or -1: the processor's fence.
   * Rows go in one insert per batch, in offset order, so every first copy at or below it is
   * stored already.
   */
  async offsetFence(topic: string, partition: number): Promise<bigint> {
    const result = await this.#client.query({
      query: `SELECT count() AS n, max(kafka_offset) AS top FROM {database:Identifier}.responses
              WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}`,
      format: 'JSONEachRow',
      query_params: { database: this.#database, topic, partition },
    });
    const [row] = await result.json<{ n: string | number; top: string | number }>();
    return row && Number(row.n) > 0 ? BigInt(row.top) : -1n;
  }

  /**
   * Inserts rows in one block (one atomic part). The processor inserts only rows above the
   * partition's offset fence, so a replay adds nothing; should a row arrive twice anyway (two
   * processors on one partition during a rebalance), ReplacingMergeTree folds it at the next merge.
   */
  async insert(rows: readonly StoredResponse[], topic: string): Promise<void> {
    await this.#insertInto('responses', rows, topic);
  }

  /**
   * Adds rows the base table holds already to the rollups again (through a table that keeps
   * nothing, schemas/clickhouse/007): a crash can cut an insert off after its base rows and before
   * its rollup states, and the rollups' uniqExact counts a repeat once.
   */
  async replayRollups(rows: readonly StoredResponse[], topic: string): Promise<void> {
    await this.#insertInto('responses_replayed', rows, topic);
  }

  async #insertInto(table: string, rows: readonly StoredResponse[], topic: string): Promise<void> {
    if (rows.length === 0) return;
    await this.#client.insert({
      table: `${this.#database}.${table}`,
      format: 'JSONEachRow',
      values: rows.map(({ response: r, partition, offset }) => ({
        response_id: r.responseId,
        survey_id: r.surveyId,
        channel: r.channel,
        score: r.score,
        category: classify(r.score),
        comment: r.comment,
        locale: r.locale,
        respondent_id: r.respondentId,
        segment: r.segment,
        responded_at: isoUtc(r.respondedAt),
        received_at: isoUtc(r.receivedAt),
        provider_message_id: r.providerMessageId,
        language: r.language,
        themes: r.themes ?? [],
        taxonomy_version: r.taxonomyVersion ?? '',
        kafka_partition: partition,
        kafka_offset: offset,
        kafka_topic: topic,
      })),
    });
  }

  /** Remembers an erasure for good (by tag): what `nps rebuild-live` restores into Redis. */
  async recordErasure(tag: string, cut: number): Promise<void> {
    await this.#client.insert({
      table: `${this.#database}.erasures`,
      format: 'JSONEachRow',
      values: [{ respondent_tag: tag, erased_before: isoUtc(cut) }],
    });
  }

  /** Every erasure, with its latest cut. */
  async erasures(): Promise<{ tag: string; cut: number }[]> {
    const result = await this.#client.query({
      query: `SELECT respondent_tag, toUnixTimestamp64Milli(max(erased_before)) AS cut
              FROM {database:Identifier}.erasures GROUP BY respondent_tag`,
      format: 'JSONEachRow',
      query_params: { database: this.#database },
    });
    const rows = await result.json<{ respondent_tag: string; cut: string | number }>();
    return rows.map((r) => ({ tag: r.respondent_tag, cut: Number(r.cut) }));
  }

  /**
   * Deletes a respondent's responses received up to `cut` (comments with them), then rebuilds the
   * hourly and daily rollup buckets they were counted in from what is left. Safe to repeat and to
   * run beside inserts: a rollup bucket is deleted and then recomputed from the base table, and
   * uniqExact states merge, so rows inserted meanwhile are neither lost nor counted twice.
   * Returns how many responses were deleted.
   */
  async purge(respondentId: string, cut: number): Promise<number> {
    const params = { database: this.#database, respondentId, cut };
    const match = `respondent_id = {respondentId:String}
                   AND received_at <= fromUnixTimestamp64Milli({cut:Int64}, 'UTC')`;
    const found = await this.#client.query({
      query: `SELECT survey_id, uniqExact(response_id) AS responses,
                     groupUniqArray(toStartOfHour(responded_at)) AS hours,
                     groupUniqArray(toDate(responded_at)) AS days
              FROM {database:Identifier}.responses WHERE ${match} GROUP BY survey_id`,
      format: 'JSONEachRow',
      query_params: params,
    });
    const surveys = await found.json<{
      survey_id: string;
      responses: string | number;
      hours: string[];
      days: string[];
    }>();
    if (surveys.length === 0) return 0;
    await this.#client.command({
      query: `DELETE FROM {database:Identifier}.responses WHERE ${match}`,
      query_params: params,
      clickhouse_settings: { lightweight_deletes_sync: '2' },
    });
    for (const survey of surveys) {
      for (const { table, column, bucket, type, keys } of ROLLUPS) {
        const query_params = {
          database: this.#database,
          surveyId: survey.survey_id,
          keys: survey[keys],
        };
        // Table and column names come from the fixed list ROLLUPS; values are query parameters.
        await this.#client.command({
          query: `ALTER TABLE {database:Identifier}.${table}
                  DELETE WHERE survey_id = {surveyId:String} AND ${column} IN {keys:Array(${type})}`,
          query_params,
          clickhouse_settings: { mutations_sync: '2' },
        });
        await this.#client.command({
          query: `INSERT INTO {database:Identifier}.${table}
                  SELECT survey_id, channel, ${bucket}(responded_at) AS ${column},
                         uniqExactStateIf(sipHash64(response_id), category = 'promoter'),
                         uniqExactStateIf(sipHash64(response_id), category = 'passive'),
                         uniqExactStateIf(sipHash64(response_id), category = 'detractor')
                  FROM {database:Identifier}.responses
                  WHERE survey_id = {surveyId:String} AND ${column} IN {keys:Array(${type})}
                  GROUP BY survey_id, channel, ${column}`,
          query_params,
        });
      }
    }
    return surveys.reduce((n, s) => n + Number(s.responses), 0);
  }

  /** Non-empty buckets of [from, to) in time order, from the hourly or daily rollup. */
  async series(query: {
    surveyId: string;
    from: number;
    to: number;
    interval: Interval;
    byChannel: boolean;
  }): Promise<HistoryRow[]> {
    const { table, start, column } = BUCKET_SQL[query.interval];
    const channelSelect = query.byChannel ? ', channel' : '';
    // Table and column names come from the fixed map above; every value is a query parameter.
    const sql = `
      SELECT toUnixTimestamp(${start}) * 1000 AS start${channelSelect},
             uniqExactMerge(promoters) AS promoters,
             uniqExactMerge(passives) AS passives,
             uniqExactMerge(detractors) AS detractors
      FROM {database:Identifier}.${table}
      WHERE survey_id = {surveyId:String}
        AND ${column} >= ${column === 'hour' ? 'toStartOfHour' : 'toDate'}(fromUnixTimestamp64Milli({from:Int64}, 'UTC'))
        AND ${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
      GROUP BY start${channelSelect}
      HAVING promoters + passives + detractors > 0
      ORDER BY start${channelSelect}`;
    const result = await this.#client.query({
      query: sql,
      format: 'JSONEachRow',
      query_params: {
        database: this.#database,
        surveyId: query.surveyId,
        from: query.from,
        to: query.to,
      },
    });
    const rows = await result.json<Record<string, string | number>>();
    return rows.map((row) => ({
      start: Number(row.start),
      ...(query.byChannel && { channel: row.channel as Channel }),
      promoters: Number(row.promoters),
      passives: Number(row.passives),
      detractors: Number(row.detractors),
    }));
  }

  /**
   * Stored responses received since `sinceMs`, in Kafka order (partition, then offset), a page at
   * a time: what `nps rebuild-live` replays into Redis.
   */
  async *storedSince(sinceMs: number, pageSize = 5000): AsyncGenerator<StoredResponse[]> {
    let after = { partition: -1, offset: '0' };
    for (;;) {
      const result = await this.#client.query({
        query: `SELECT response_id, survey_id, channel, score, comment, locale, respondent_id, segment,
                       toUnixTimestamp64Milli(responded_at) AS responded_at,
                       toUnixTimestamp64Milli(received_at) AS received_at,
                       provider_message_id, language, themes, taxonomy_version,
                       kafka_partition, kafka_offset
                FROM {database:Identifier}.responses FINAL
                WHERE received_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
                  AND (kafka_partition, kafka_offset) > ({partition:Int32}, {offset:UInt64})
                ORDER BY kafka_partition, kafka_offset
                LIMIT {limit:UInt32}`,
        format: 'JSONEachRow',
        query_params: {
          database: this.#database,
          since: sinceMs,
          partition: after.partition,
          offset: after.offset,
          limit: pageSize,
        },
      });
      const rows = await result.json<Record<string, unknown>>();
      if (rows.length === 0) return;
      const page = rows.map((row) => ({
        response: {
          responseId: String(row.response_id),
          surveyId: String(row.survey_id),
          channel: row.channel as Channel,
          score: Number(row.score),
          comment: (row.comment as string | null) ?? null,
          locale: (row.locale as string | null) ?? null,
          respondentId: (row.respondent_id as string | null) ?? null,
          segment: row.segment as Record<string, string>,
          respondedAt: Number(row.responded_at),
          receivedAt: Number(row.received_at),
          providerMessageId: (row.provider_message_id as string | null) ?? null,
          language: (row.language as string | null) ?? null,
          themes: row.taxonomy_version === '' ? null : (row.themes as string[]),
          taxonomyVersion: row.taxonomy_version === '' ? null : String(row.taxonomy_version),
        },
        partition: Number(row.kafka_partition),
        offset: String(row.kafka_offset),
      }));
      yield page;
      const last = page.at(-1);
      if (!last || rows.length < pageSize) return;
      after = { partition: last.partition, offset: last.offset };
    }
  }
}
