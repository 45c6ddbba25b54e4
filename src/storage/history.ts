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

/** The rollups, each with the table that feeds it what a replay finds missing there. */
export const ROLLUPS = ['hourly', 'daily'] as const;
export type Rollup = (typeof ROLLUPS)[number];

/** Highest stored Kafka offset per month (YYYYMM of responded_at, UTC); absent: none. */
export type MonthFences = ReadonlyMap<number, bigint>;

/** A partition's fences: of the base table, and of each rollup. */
export interface Fences {
  readonly responses: MonthFences;
  readonly hourly: MonthFences;
  readonly daily: MonthFences;
}

/** The month (YYYYMM, UTC) of an epoch-ms time: the tables' partition, and a fence's key. */
export function monthOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/** Whether a row of `month` at `offset` is at or below the fence: stored already. */
export function fenced(fences: MonthFences, month: number, offset: string): boolean {
  const top = fences.get(month);
  return top !== undefined && BigInt(offset) <= top;
}

/** The full history of responses in ClickHouse and the rollups it is read from. */
export class History {
  readonly #client: ClickHouseClient;
  readonly #database: string;

  constructor(client: ClickHouseClient, database: string) {
    this.#client = client;
    this.#database = database;
  }

  /**
   * The processor's fences for a partition of `topic`: per month, the highest Kafka offset stored
   * in the base table and counted in each rollup. Rows go in one insert per batch (or per group of
   * batches, see the processor), one part per month, each part whole or not at all; so every first
   * copy of a month at or below its fence is stored (or counted) already.
   */
  async fences(topic: string, partition: number): Promise<Fences> {
    const result = await this.#client.query({
      query: `SELECT 'responses' AS t, toYYYYMM(responded_at) AS m, max(kafka_offset) AS top
              FROM {database:Identifier}.responses
              WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
              GROUP BY m
              UNION ALL
              SELECT 'hourly', toYYYYMM(hour) AS m, max(kafka_offset)
              FROM {database:Identifier}.responses_hourly
              WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
              GROUP BY m
              UNION ALL
              SELECT 'daily', toYYYYMM(day) AS m, max(kafka_offset)
              FROM {database:Identifier}.responses_daily
              WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
              GROUP BY m`,
      format: 'JSONEachRow',
      query_params: { database: this.#database, topic, partition },
    });
    const fences = { responses: new Map(), hourly: new Map(), daily: new Map() };
    for (const row of await result.json<{ t: keyof Fences; m: number | string; top: string }>()) {
      fences[row.t].set(Number(row.m), BigInt(row.top));
    }
    return fences;
  }

  /**
   * Inserts rows in one insert (one part per month). The processor inserts only rows above the
   * fence of their month, so a replay adds nothing; should a row arrive twice anyway (two
   * processors on one partition during a rebalance), ReplacingMergeTree folds it at the next merge.
   */
  async insert(rows: readonly StoredResponse[], topic: string): Promise<void> {
    await this.#insertInto('responses', rows, topic);
  }

  /**
   * Counts stored rows in one rollup, through a table that keeps nothing: a crash can cut an
   * insert off after its base rows and before (some of) its rollups, and the processor sends here
   * exactly the stored rows above that rollup's fence.
   */
  async replayRollup(
    rollup: Rollup,
    rows: readonly StoredResponse[],
    topic: string,
  ): Promise<void> {
    if (rows.length === 0) return;
    await this.#client.insert({
      table: `${this.#database}.responses_replayed_${rollup}`,
      format: 'JSONEachRow',
      values: rows.map(({ response: r, partition, offset }) => ({
        survey_id: r.surveyId,
        channel: r.channel,
        category: classify(r.score),
        responded_at: isoUtc(r.respondedAt),
        kafka_topic: topic,
        kafka_partition: partition,
        kafka_offset: offset,
      })),
    });
  }

  /** Of these responses, those an erasure deleted from the base table (rollup_corrections). */
  async erasedResponses(
    responses: readonly { surveyId: string; responseId: string }[],
  ): Promise<Set<string>> {
    if (responses.length === 0) return new Set();
    const result = await this.#client.query({
      query: `SELECT survey_id, response_id FROM {database:Identifier}.rollup_corrections
              WHERE survey_id IN {surveys:Array(String)} AND response_id IN {ids:Array(String)}`,
      format: 'JSONEachRow',
      query_params: {
        database: this.#database,
        surveys: [...new Set(responses.map((r) => r.surveyId))],
        ids: responses.map((r) => r.responseId),
      },
    });
    const rows = await result.json<{ survey_id: string; response_id: string }>();
    return new Set(rows.map((r) => `${r.survey_id}\u0000${r.response_id}`));
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
   * Deletes a respondent's responses received up to `cut` (comments with them). Each deleted
   * response is first recorded in rollup_corrections, which reads subtract from the rollups that
   * counted it (those whose fence is at or above its offset); the rollups themselves are never
   * rewritten, so inserts running meanwhile are neither lost nor counted twice. Safe to repeat: a
   * correction is keyed by the response, and a response deleted already is not found again.
   * Returns how many responses were deleted.
   */
  async purge(respondentId: string, cut: number): Promise<number> {
    const params = { database: this.#database, respondentId, cut };
    const match = `respondent_id = {respondentId:String}
                   AND received_at <= fromUnixTimestamp64Milli({cut:Int64}, 'UTC')`;
    const found = await this.#client.query({
      query: `SELECT uniqExact(survey_id, response_id) AS n
              FROM {database:Identifier}.responses WHERE ${match}`,
      format: 'JSONEachRow',
      query_params: params,
    });
    const [counted] = await found.json<{ n: string | number }>();
    const deleted = Number(counted?.n ?? 0);
    if (deleted === 0) return 0;
    await this.#client.command({
      query: `INSERT INTO {database:Identifier}.rollup_corrections
              SELECT survey_id, response_id, channel, category, responded_at,
                     kafka_topic, kafka_partition, kafka_offset
              FROM {database:Identifier}.responses WHERE ${match}`,
      query_params: params,
    });
    await this.#client.command({
      query: `DELETE FROM {database:Identifier}.responses WHERE ${match}`,
      query_params: params,
      clickhouse_settings: { lightweight_deletes_sync: '2' },
    });
    return deleted;
  }

  /**
   * Non-empty buckets of [from, to) in time order, from the hourly or daily rollup; with segment
   * filters (AND-ed), from the responses themselves (the rollups are not kept per segment).
   */
  async series(query: {
    surveyId: string;
    from: number;
    to: number;
    interval: Interval;
    byChannel: boolean;
    segment?: Readonly<Record<string, string>>;
  }): Promise<HistoryRow[]> {
    const { table, start, column } = BUCKET_SQL[query.interval];
    const channelSelect = query.byChannel ? ', channel' : '';
    const segment = segmentMatch(query.segment ?? {});
    // Table and column names come from the fixed map above; every value is a query parameter.
    const bucket = column === 'hour' ? 'toStartOfHour' : 'toDate';
    const range = `${column} >= ${bucket}(fromUnixTimestamp64Milli({from:Int64}, 'UTC'))
        AND ${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
    // The rollup's counts, less the erased responses it had counted (offset within its fence).
    const sql = segment.sql
      ? segmentSeries(query.interval, channelSelect, segment.sql)
      : `
      SELECT toUnixTimestamp(${start}) * 1000 AS start${channelSelect},
             sum(p) AS promoters, sum(s) AS passives, sum(d) AS detractors
      FROM (
        SELECT ${column}, channel, toInt64(promoters) AS p, toInt64(passives) AS s,
               toInt64(detractors) AS d
        FROM {database:Identifier}.${table}
        WHERE survey_id = {surveyId:String} AND ${range}
        UNION ALL
        SELECT c.${column} AS ${column}, c.channel AS channel,
               -toInt64(c.category = 'promoter'), -toInt64(c.category = 'passive'),
               -toInt64(c.category = 'detractor')
        FROM (
          SELECT ${bucket}(responded_at) AS ${column}, channel, category,
                 kafka_topic, kafka_partition, kafka_offset
          FROM {database:Identifier}.rollup_corrections FINAL
          WHERE survey_id = {surveyId:String} AND ${range}
        ) AS c
        INNER JOIN (
          SELECT kafka_topic, kafka_partition, toYYYYMM(${column}) AS m, max(kafka_offset) AS fence
          FROM {database:Identifier}.${table}
          WHERE (kafka_topic, kafka_partition) IN (
            SELECT kafka_topic, kafka_partition FROM {database:Identifier}.rollup_corrections
            WHERE survey_id = {surveyId:String})
          GROUP BY kafka_topic, kafka_partition, m
        ) AS f
        ON c.kafka_topic = f.kafka_topic AND c.kafka_partition = f.kafka_partition
           AND toYYYYMM(c.${column}) = f.m
        WHERE c.kafka_offset <= f.fence
      )
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
        ...segment.params,
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

/**
 * The buckets of `series` counted from the responses table: the rollups' bucket expressions and
 * range (a bucket is in when its start is), every stored response once (the table is exact
 * without FINAL, see History.fences).
 */
function segmentSeries(interval: Interval, channelSelect: string, segmentSql: string): string {
  const { start, column } = BUCKET_SQL[interval];
  const bucket = column === 'hour' ? 'toStartOfHour' : 'toDate';
  return `
      SELECT toUnixTimestamp(${start}) * 1000 AS start${channelSelect},
             countIf(category = 'promoter') AS promoters,
             countIf(category = 'passive') AS passives,
             countIf(category = 'detractor') AS detractors
      FROM (SELECT ${bucket}(responded_at) AS ${column}, channel, category
            FROM {database:Identifier}.responses
            WHERE survey_id = {surveyId:String} ${segmentSql}
              AND ${bucket}(responded_at) >= ${bucket}(fromUnixTimestamp64Milli({from:Int64}, 'UTC'))
              AND ${bucket}(responded_at) < fromUnixTimestamp64Milli({to:Int64}, 'UTC'))
      GROUP BY start${channelSelect}
      ORDER BY start${channelSelect}`;
}

/**
 * `AND` conditions on the `segment` map column, one per filter (the key must be present: a
 * missing key reads as ''), with their query parameters.
 */
export function segmentMatch(segment: Readonly<Record<string, string>>): {
  sql: string;
  params: Record<string, string>;
} {
  const params: Record<string, string> = {};
  const conditions = Object.entries(segment).map(([key, value], i) => {
    params[`segmentKey${i}`] = key;
    params[`segmentValue${i}`] = value;
    return `AND mapContains(segment, {segmentKey${i}:String})
            AND segment[{segmentKey${i}:String}] = {segmentValue${i}:String}`;
  });
  return { sql: conditions.join(' '), params };
}
