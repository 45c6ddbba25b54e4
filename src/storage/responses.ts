import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './clickhouse.js';
import { segmentMatch } from './history.js';
import type { Category } from '../domain/classification.js';
import type { Tally } from '../domain/nps.js';
import type { Channel } from '../domain/response.js';

export interface RangeQuery {
  readonly surveyId: string;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  readonly channel: Channel | null;
}

export interface SurveySummary {
  readonly surveyId: string;
  readonly responses: number;
  /** Epoch ms of the latest response. */
  readonly lastResponseAt: number;
}

export interface FeedItem {
  readonly responseId: string;
  readonly channel: Channel;
  readonly score: number;
  readonly category: Category;
  readonly comment: string | null;
  readonly language: string | null;
  readonly themes: readonly string[];
  /** Epoch ms. */
  readonly respondedAt: number;
}

type Row = Record<string, unknown>;

const FIELD: Record<Category, keyof Tally> = {
  promoter: 'promoters',
  passive: 'passives',
  detractor: 'detractors',
};

/**
 * Reads single responses and exact counts over any time range from the history table. The
 * processor stores each response once (see History.offsetFence), so plain counts are exact.
 */
export class ResponseStore {
  readonly #client: ClickHouseClient;
  readonly #database: string;

  constructor(client: ClickHouseClient, database: string) {
    this.#client = client;
    this.#database = database;
  }

  /**
   * Promoters, passives and detractors of a survey in [from, to), to the millisecond; of the
   * responses whose segment has every given key=value when `segment` is given.
   */
  async tally(
    q: RangeQuery & { readonly segment?: Readonly<Record<string, string>> },
  ): Promise<Tally> {
    const { segment, ...range } = q;
    const slice = segmentMatch(segment ?? {});
    const rows = await this.#rows(
      `SELECT category, count() AS n
       FROM {database:Identifier}.responses WHERE ${match(range)} ${slice.sql} GROUP BY category`,
      { ...range, ...slice.params },
    );
    const tally = { promoters: 0, passives: 0, detractors: 0 };
    for (const row of rows) tally[FIELD[row.category as Category]] = Number(row.n);
    return tally;
  }

  /** Surveys that have responses, the most recently answered first. */
  async surveys(limit: number): Promise<SurveySummary[]> {
    const rows = await this.#rows(
      `SELECT survey_id, count() AS responses,
              toUnixTimestamp64Milli(max(responded_at)) AS last
       FROM {database:Identifier}.responses GROUP BY survey_id
       ORDER BY last DESC, survey_id LIMIT {limit:UInt32}`,
      { limit },
    );
    return rows.map((r) => ({
      surveyId: String(r.survey_id),
      responses: Number(r.responses),
      lastResponseAt: Number(r.last),
    }));
  }

  /** The most recent responses of a survey, newest first, optionally of one category. */
  async recent(
    q: RangeQuery & { readonly category: Category | null },
    limit: number,
  ): Promise<FeedItem[]> {
    const rows = await this.#rows(
      `SELECT response_id, channel, score, category, comment, language, themes,
              toUnixTimestamp64Milli(responded_at) AS at
       FROM {database:Identifier}.responses
       WHERE ${match(q)} ${q.category === null ? '' : 'AND category = {category:String}'}
       ORDER BY responded_at DESC, response_id LIMIT {limit:UInt32}`,
      { ...q, limit: limit * 2 },
    );
    // Should a rebalance race have stored a row twice, it shows once.
    const seen = new Set<string>();
    const items: FeedItem[] = [];
    for (const r of rows) {
      const responseId = String(r.response_id);
      if (seen.has(responseId) || items.length === limit) continue;
      seen.add(responseId);
      items.push({
        responseId,
        channel: r.channel as Channel,
        score: Number(r.score),
        category: r.category as Category,
        comment: (r.comment as string | null) ?? null,
        language: (r.language as string | null) ?? null,
        themes: r.themes as string[],
        respondedAt: Number(r.at),
      });
    }
    return items;
  }

  #rows(query: string, params: object): Promise<Row[]> {
    return queryRows<Row>(this.#client, this.#database, query, params);
  }
}

/** The WHERE clause of a survey's responses in a time range, of one channel when given. */
export function match(q: RangeQuery): string {
  return `survey_id = {surveyId:String}
          AND responded_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
          AND responded_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
          ${q.channel === null ? '' : 'AND channel = {channel:String}'}`;
}
