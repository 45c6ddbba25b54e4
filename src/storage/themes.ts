import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './clickhouse.js';
import type { Category } from '../domain/classification.js';
import type { Tally } from '../domain/nps.js';
import { match } from './responses.js';
import type { RangeQuery } from './responses.js';

export type ThemeQuery = RangeQuery;

export interface ThemeTallies {
  readonly all: Tally;
  /** Responses with a comment. */
  readonly commented: number;
  /** Per theme mentioned at least once: the responses whose comment mentions it. */
  readonly themes: ReadonlyMap<string, Tally>;
}

export interface ThemeExample {
  readonly responseId: string;
  readonly score: number;
  /** As stored: phone numbers and email addresses masked at ingest. */
  readonly comment: string;
  readonly language: string | null;
  /** Epoch ms. */
  readonly respondedAt: number;
}

export interface StoredComment {
  readonly text: string;
  readonly language: string | null;
}

type Row = Record<string, string | number | null>;

const EMPTY: Tally = { promoters: 0, passives: 0, detractors: 0 };
const FIELD: Record<Category, keyof Tally> = {
  promoter: 'promoters',
  passive: 'passives',
  detractor: 'detractors',
};

/**
 * Reads comment themes from the history table. The processor stores each response once (see
 * History.offsetFence), so plain counts are exact without FINAL.
 */
export class ThemeStore {
  readonly #client: ClickHouseClient;
  readonly #database: string;

  constructor(client: ClickHouseClient, database: string) {
    this.#client = client;
    this.#database = database;
  }

  async tallies(q: ThemeQuery): Promise<ThemeTallies> {
    const [overall, perTheme] = await Promise.all([
      this.#rows(
        `SELECT category, count() AS n,
                countIf(comment IS NOT NULL) AS commented
         FROM {database:Identifier}.responses WHERE ${match(q)} GROUP BY category`,
        q,
      ),
      this.#rows(
        `SELECT theme, category, count() AS n
         FROM {database:Identifier}.responses ARRAY JOIN themes AS theme
         WHERE ${match(q)} GROUP BY theme, category`,
        q,
      ),
    ]);
    const all = { ...EMPTY };
    let commented = 0;
    for (const row of overall) {
      all[FIELD[row.category as Category]] = Number(row.n);
      commented += Number(row.commented);
    }
    const themes = new Map<string, { promoters: number; passives: number; detractors: number }>();
    for (const row of perTheme) {
      const theme = String(row.theme);
      const tally = themes.get(theme) ?? { ...EMPTY };
      tally[FIELD[row.category as Category]] = Number(row.n);
      themes.set(theme, tally);
    }
    return { all, commented, themes };
  }

  /**
   * The `limit` most recent comments that mention each theme, newest first. The table is ordered
   * by response id, not time, so this finds the ids first, cheaply: among the 2,000 most recent
   * tagged responses of the range's last week, and only for a theme with fewer there, over the
   * whole range; then it reads those few comments by primary key.
   */
  async examples(
    q: ThemeQuery,
    themes: readonly string[],
    limit: number,
  ): Promise<Map<string, ThemeExample[]>> {
    const recent = { ...q, from: Math.max(q.from, q.to - RECENT_MS) };
    // Twice the limit: should a rebalance race have stored a row twice, it shows once.
    const found = await this.#rows(
      `SELECT theme, response_id, toUnixTimestamp64Milli(responded_at) AS at_ms
       FROM (SELECT themes, response_id, responded_at FROM {database:Identifier}.responses
             WHERE ${match(recent)} AND notEmpty(themes)
             ORDER BY responded_at DESC, response_id LIMIT 2000)
       ARRAY JOIN themes AS theme
       ORDER BY at_ms DESC, response_id LIMIT {limit:UInt32} BY theme`,
      { ...recent, limit: limit * 2 },
    );
    const picked = new Map<string, Row[]>(themes.map((t) => [t, []]));
    pick(found, picked, limit);
    const short = themes.filter((t) => (picked.get(t)?.length ?? 0) < limit);
    await Promise.all(
      short.map(async (theme) => {
        const rows = await this.#rows(
          `SELECT {theme:String} AS theme, response_id,
                  toUnixTimestamp64Milli(responded_at) AS at_ms
           FROM {database:Identifier}.responses
           WHERE ${match(q)} AND has(themes, {theme:String})
           ORDER BY responded_at DESC, response_id LIMIT {limit:UInt32}`,
          { ...q, theme, limit: limit * 2 },
        );
        picked.set(theme, []);
        pick(rows, picked, limit);
      }),
    );
    const ids = [...new Set([...picked.values()].flat().map((r) => String(r.response_id)))];
    const details = new Map<string, Row>();
    if (ids.length > 0) {
      const rows = await this.#rows(
        `SELECT response_id, score, comment, language FROM {database:Identifier}.responses
         WHERE survey_id = {surveyId:String} AND response_id IN {ids:Array(String)}`,
        { surveyId: q.surveyId, ids },
      );
      for (const row of rows) details.set(String(row.response_id), row);
    }
    return new Map(
      [...picked].map(([theme, rows]) => [
        theme,
        rows.flatMap((r) => {
          const d = details.get(String(r.response_id));
          if (!d || d.comment === null) return [];
          return [
            {
              responseId: String(r.response_id),
              score: Number(d.score),
              comment: String(d.comment),
              language: d.language === null ? null : String(d.language),
              respondedAt: Number(r.at_ms),
            },
          ];
        }),
      ]),
    );
  }

  /** The most recent `limit` comments of the given categories, and how many there are. */
  async comments(
    q: ThemeQuery,
    categories: readonly Category[],
    limit: number,
  ): Promise<{ comments: StoredComment[]; total: number }> {
    const params = { ...q, categories, limit };
    const where = `${match(q)} AND comment IS NOT NULL AND has({categories:Array(String)}, category)`;
    const [rows, counted] = await Promise.all([
      this.#rows(
        `SELECT comment AS text, language AS lang
         FROM {database:Identifier}.responses WHERE ${where}
         ORDER BY responded_at DESC, response_id LIMIT {limit:UInt32}`,
        params,
      ),
      this.#rows(
        `SELECT count() AS n
         FROM {database:Identifier}.responses WHERE ${where}`,
        params,
      ),
    ]);
    return {
      comments: rows.map((r) => ({
        text: String(r.text),
        language: r.lang === null ? null : String(r.lang),
      })),
      total: Number(counted[0]?.n ?? 0),
    };
  }

  #rows(query: string, params: object): Promise<Row[]> {
    return queryRows<Row>(this.#client, this.#database, query, params);
  }
}

const RECENT_MS = 7 * 86_400_000;

/** Adds rows (newest first) to their theme's picks, each response once, up to `limit`. */
function pick(rows: readonly Row[], picked: Map<string, Row[]>, limit: number): void {
  for (const row of rows) {
    const list = picked.get(String(row.theme));
    if (!list || list.length === limit || list.some((r) => r.response_id === row.response_id))
      continue;
    list.push(row);
  }
}
