import type { ClickHouseClient } from '@clickhouse/client';
import type { CaseChange, CaseStatus, LaterAnswer, OpenedCase } from '../domain/cases.js';
import type { Channel, NpsResponse } from '../domain/response.js';
import type { CaseRule } from '../domain/case-rule.js';
import { caseIdFor } from '../domain/cases.js';
import { queryRows } from './clickhouse.js';

type Row = Record<string, unknown>;

export interface CaseQuery {
  /** The surveys to list; null for every survey. */
  readonly surveys: readonly string[] | null;
  readonly status: CaseStatus | null;
  readonly theme: string | null;
  /** Lists cases older than this (openedAt, caseId) position: the previous page's last. */
  readonly after: { readonly openedAt: number; readonly caseId: string } | null;
  readonly limit: number;
}

/**
 * A case's current status and first contact, folded from its changes in SQL the way foldCase does
 * in TypeScript (the latest change that sets a status wins, by (at, change_id)), so that a list
 * filtered by status pages exactly. A case without changes has status '' here: open.
 */
const STATE = `SELECT case_id,
                      argMaxIf(status, (at, change_id), status != '') AS cur_status,
                      minIfOrNull(at, status IN ('contacted', 'resolved')) AS first_contact
               FROM {database:Identifier}.case_changes FINAL GROUP BY case_id`;

const OPENED = `SELECT c.case_id AS case_id, c.survey_id AS survey_id, c.response_id AS response_id,
                       c.channel AS channel, c.score AS score, c.comment AS comment,
                       c.themes AS themes, c.respondent_id AS respondent_id,
                       toUnixTimestamp64Milli(c.responded_at) AS responded_ms,
                       toUnixTimestamp64Milli(c.opened_at) AS opened_ms,
                       toUnixTimestamp64Milli(c.due_at) AS due_ms
                FROM {database:Identifier}.cases AS c FINAL`;

function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

function openedFrom(r: Row): OpenedCase {
  return {
    caseId: String(r.case_id),
    responseId: String(r.response_id),
    surveyId: String(r.survey_id),
    channel: r.channel as Channel,
    score: Number(r.score),
    comment: (r.comment as string | null) ?? null,
    themes: r.themes as string[],
    respondentId: (r.respondent_id as string | null) ?? null,
    respondedAt: Number(r.responded_ms),
    openedAt: Number(r.opened_ms),
    dueAt: Number(r.due_ms),
  };
}

function changeFrom(r: Row): CaseChange {
  return {
    changeId: String(r.change_id),
    caseId: String(r.case_id),
    by: String(r.changed_by),
    at: Number(r.at_ms),
    status: r.status === '' ? null : (r.status as CaseStatus),
    ...(Number(r.assignee_set) === 1 && {
      assignee: r.assignee === '' ? null : String(r.assignee),
    }),
    note: (r.note as string | null) ?? null,
  };
}

/**
 * Follow-up cases in ClickHouse: `cases` (opened by the processor, one row per case however often
 * a replay writes it) and `case_changes` (what people did, append-only). ClickHouse rather than
 * Redis because cases are edited by people and must outlive a Redis loss; it is also where the
 * responses are that recovery is read from.
 */
export class CaseStore {
  readonly #client: ClickHouseClient;
  readonly #database: string;
  readonly #rule: CaseRule;
  readonly #slaMs: number;

  constructor(
    client: ClickHouseClient,
    database: string,
    options: { readonly rule: CaseRule; readonly slaHours: number },
  ) {
    this.#client = client;
    this.#database = database;
    this.#rule = options.rule;
    this.#slaMs = options.slaHours * 3_600_000;
  }

  /**
   * Opens a case for every response the rule matches, in one insert. Everything in the row comes
   * from the response (openedAt is its receipt time), so a replay writes the same row again and it
   * folds by caseId. The processor calls this before it stores the responses' history rows.
   */
  async open(responses: readonly NpsResponse[]): Promise<void> {
    const matched = responses.filter((r) =>
      this.#rule.matches({ score: r.score, themes: r.themes }),
    );
    if (matched.length === 0) return;
    await this.#client.insert({
      table: `${this.#database}.cases`,
      format: 'JSONEachRow',
      values: matched.map((r) => ({
        case_id: caseIdFor(r.surveyId, r.responseId),
        survey_id: r.surveyId,
        response_id: r.responseId,
        channel: r.channel,
        score: r.score,
        comment: r.comment,
        themes: r.themes ?? [],
        respondent_id: r.respondentId,
        responded_at: isoUtc(r.respondedAt),
        opened_at: isoUtc(r.receivedAt),
        due_at: isoUtc(r.receivedAt + this.#slaMs),
      })),
    });
  }

  /** Opened cases newest first, (openedAt, caseId) descending, filtered by current status. */
  async list(q: CaseQuery): Promise<OpenedCase[]> {
    const where: string[] = ['1'];
    if (q.surveys !== null) where.push('c.survey_id IN {surveys:Array(String)}');
    if (q.theme !== null) where.push('has(c.themes, {theme:String})');
    if (q.status !== null)
      where.push(`if(s.cur_status = '', 'open', s.cur_status) = {status:String}`);
    if (q.after !== null)
      where.push(
        `(c.opened_at, c.case_id) < (fromUnixTimestamp64Milli({afterMs:Int64}, 'UTC'), {afterId:String})`,
      );
    const rows = await this.#rows(
      `${OPENED} LEFT JOIN (${STATE}) AS s ON s.case_id = c.case_id
       WHERE ${where.join(' AND ')}
       ORDER BY c.opened_at DESC, c.case_id DESC
       LIMIT {limit:UInt32}`,
      {
        surveys: q.surveys ?? [],
        theme: q.theme ?? '',
        status: q.status ?? '',
        afterMs: q.after?.openedAt ?? 0,
        afterId: q.after?.caseId ?? '',
        limit: q.limit,
      },
    );
    return rows.map(openedFrom);
  }

  async get(caseId: string): Promise<OpenedCase | null> {
    const rows = await this.#rows(`${OPENED} WHERE c.case_id = {caseId:String} LIMIT 1`, {
      caseId,
    });
    return rows[0] ? openedFrom(rows[0]) : null;
  }

  /** A survey's cases opened in [from, to). */
  async openedBetween(surveyId: string, from: number, to: number): Promise<OpenedCase[]> {
    const rows = await this.#rows(
      `${OPENED} WHERE c.survey_id = {surveyId:String}
         AND c.opened_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
         AND c.opened_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
      { surveyId, from, to },
    );
    return rows.map(openedFrom);
  }

  /** The changes of these cases, by case id. */
  async changes(caseIds: readonly string[]): Promise<Map<string, CaseChange[]>> {
    const byCase = new Map<string, CaseChange[]>();
    if (caseIds.length === 0) return byCase;
    const rows = await this.#rows(
      `SELECT change_id, case_id, changed_by, toUnixTimestamp64Milli(at) AS at_ms, status,
              assignee_set, assignee, note
       FROM {database:Identifier}.case_changes FINAL
       WHERE case_id IN {caseIds:Array(String)}`,
      { caseIds },
    );
    for (const row of rows) {
      const change = changeFrom(row);
      const list = byCase.get(change.caseId) ?? [];
      list.push(change);
      byCase.set(change.caseId, list);
    }
    return byCase;
  }

  /** Keeps one change; the same change id written again folds into the first row. */
  async addChange(change: CaseChange, surveyId: string): Promise<void> {
    await this.#client.insert({
      table: `${this.#database}.case_changes`,
      format: 'JSONEachRow',
      values: [
        {
          change_id: change.changeId,
          case_id: change.caseId,
          survey_id: surveyId,
          changed_by: change.by,
          at: isoUtc(change.at),
          status: change.status ?? '',
          assignee_set: change.assignee === undefined ? 0 : 1,
          assignee: change.assignee ?? '',
          note: change.note,
        },
      ],
    });
  }

  /**
   * For each case with a respondent, their first answer to the same survey after the case's
   * response (nps.responses): what recovery is read from.
   */
  async laterAnswers(cases: readonly OpenedCase[]): Promise<Map<string, LaterAnswer>> {
    const later = new Map<string, LaterAnswer>();
    const identified = cases.filter((c) => c.respondentId !== null);
    if (identified.length === 0) return later;
    const rows = await this.#rows(
      `SELECT survey_id, respondent_id, response_id, score,
              toUnixTimestamp64Milli(responded_at) AS responded_ms
       FROM {database:Identifier}.responses FINAL
       WHERE survey_id IN {surveys:Array(String)} AND respondent_id IN {respondents:Array(String)}
       ORDER BY responded_at, response_id`,
      {
        surveys: [...new Set(identified.map((c) => c.surveyId))],
        respondents: [...new Set(identified.map((c) => c.respondentId as string))],
      },
    );
    for (const c of identified) {
      const first = rows.find(
        (r) =>
          r.survey_id === c.surveyId &&
          r.respondent_id === c.respondentId &&
          r.response_id !== c.responseId &&
          Number(r.responded_ms) > c.respondedAt,
      );
      if (first)
        later.set(c.caseId, {
          score: Number(first.score),
          respondedAt: Number(first.responded_ms),
        });
    }
    return later;
  }

  /** Per survey: cases not resolved, and cases past due without a first contact. */
  async gauges(now: number): Promise<{ surveyId: string; open: number; overdue: number }[]> {
    const rows = await this.#rows(
      `SELECT c.survey_id AS survey, countIf(s.cur_status != 'resolved') AS open_n,
              countIf(s.first_contact IS NULL
                      AND c.due_at < fromUnixTimestamp64Milli({now:Int64}, 'UTC')) AS overdue_n
       FROM {database:Identifier}.cases AS c FINAL
       LEFT JOIN (${STATE}) AS s ON s.case_id = c.case_id
       GROUP BY survey`,
      { now },
    );
    return rows.map((r) => ({
      surveyId: String(r.survey),
      open: Number(r.open_n),
      overdue: Number(r.overdue_n),
    }));
  }

  /**
   * Deletes a respondent's cases opened up to `cut` and every change made to them (notes may name
   * the person). Idempotent; returns how many cases were deleted.
   */
  async erase(respondentId: string, cut: number): Promise<number> {
    const found = await this.#rows(
      `SELECT DISTINCT case_id FROM {database:Identifier}.cases
       WHERE respondent_id = {respondentId:String}
         AND opened_at <= fromUnixTimestamp64Milli({cut:Int64}, 'UTC')`,
      { respondentId, cut },
    );
    const caseIds = found.map((r) => String(r.case_id));
    if (caseIds.length === 0) return 0;
    for (const table of ['case_changes', 'cases'] as const) {
      // The table name comes from the fixed list above; values are query parameters.
      await this.#client.command({
        query: `DELETE FROM {database:Identifier}.${table} WHERE case_id IN {caseIds:Array(String)}`,
        query_params: { database: this.#database, caseIds },
        clickhouse_settings: { lightweight_deletes_sync: '2' },
      });
    }
    return caseIds.length;
  }

  #rows(query: string, params: object): Promise<Row[]> {
    return queryRows<Row>(this.#client, this.#database, query, params);
  }
}
