import type { ClickHouseClient } from '@clickhouse/client';
import type { Category } from '../domain/classification.js';
import type { InvitationFact } from '../domain/invitation.js';
import type { FunnelCounts } from '../domain/response-rate.js';
import type { Tally } from '../domain/nps.js';
import type { Channel } from '../domain/response.js';
import { queryRows } from './clickhouse.js';

export interface StoredFact {
  readonly fact: InvitationFact;
  readonly partition: number;
  readonly offset: string;
}

export interface FunnelQuery {
  readonly surveyId: string;
  /** Invitations created in [from, to), epoch ms. */
  readonly from: number;
  readonly to: number;
  readonly channel: Channel | null;
  /** Only invitations whose segment has all these key-value pairs. */
  readonly segment: Readonly<Record<string, string>>;
}

const iso = (ms: number) => new Date(ms).toISOString();

const FIELD: Record<Category, keyof Tally> = {
  promoter: 'promoters',
  passive: 'passives',
  detractor: 'detractors',
};

/**
 * The invitations table (schemas/clickhouse/009) and the funnel read from it with the responses.
 * An invitation responded when a response answers it: by id (a link's response has responseId =
 * invitationId), or else the respondent's first answer in the same survey and channel after the
 * invitation and before its link expired (an SMS or email campaign, answered by a reply; with two
 * such invitations the answer goes to the later one). Counting distinct invitation ids makes every
 * stage exact whatever Kafka delivered twice.
 */
export class InvitationStore {
  readonly #client: ClickHouseClient;
  readonly #database: string;

  constructor(client: ClickHouseClient, database: string) {
    this.#client = client;
    this.#database = database;
  }

  async insert(rows: readonly StoredFact[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#client.insert({
      table: `${this.#database}.invitations`,
      format: 'JSONEachRow',
      values: rows.map(({ fact: f, partition, offset }) => ({
        invitation_id: f.invitationId,
        stage: f.stage,
        survey_id: f.surveyId,
        channel: f.channel,
        respondent_id: f.respondentId,
        segment: f.segment,
        created_at: iso(f.createdAt),
        expires_at: iso(f.expiresAt),
        at: iso(f.at),
        kafka_partition: partition,
        kafka_offset: offset,
      })),
    });
  }

  /**
   * Erasure: deletes the respondent's invitations created up to `cut`, every stage of them.
   * Returns how many invitations were deleted; safe to repeat.
   */
  async erase(respondentId: string, cut: number): Promise<number> {
    const params = { respondentId, cut };
    const match = `respondent_id = {respondentId:String}
                   AND created_at <= fromUnixTimestamp64Milli({cut:Int64}, 'UTC')`;
    const [found] = await queryRows<{ n: string | number }>(
      this.#client,
      this.#database,
      `SELECT uniqExact(invitation_id) AS n FROM {database:Identifier}.invitations WHERE ${match}`,
      params,
    );
    const n = Number(found?.n ?? 0);
    if (n === 0) return 0;
    await this.#client.command({
      query: `DELETE FROM {database:Identifier}.invitations WHERE ${match}`,
      query_params: { database: this.#database, ...params },
      clickhouse_settings: { lightweight_deletes_sync: '2' },
    });
    return n;
  }

  /** Counts per stage and the categories of the answers, over invitations created in the range. */
  async funnel(q: FunnelQuery): Promise<{ counts: FunnelCounts; responders: Tally }> {
    const segment = Object.entries(q.segment);
    const segmentMatch = segment
      .map((_, i) => `AND segment[{sk${i}:String}] = {sv${i}:String}`)
      .join(' ');
    const params: Record<string, unknown> = {
      surveyId: q.surveyId,
      from: q.from,
      to: q.to,
      channel: q.channel ?? '',
    };
    segment.forEach(([k, v], i) => {
      params[`sk${i}`] = k;
      params[`sv${i}`] = v;
    });
    // inv: one row per invitation created in the range. by_id: answers by invitation id. by_reply:
    // each other answer of an invited respondent goes to their latest invitation before it (same
    // channel, link not expired), and an invitation keeps its first such answer, so one answer
    // never counts for two invitations. answers: by id first, else by reply.
    const sql = `
      WITH inv AS (
        SELECT invitation_id AS iid,
               anyIf(channel, stage = 'created') AS ich,
               anyIf(respondent_id, stage = 'created') AS irid,
               minIf(created_at, stage = 'created') AS icreated,
               anyIf(expires_at, stage = 'created') AS iexpires,
               countIf(stage = 'opened') > 0 AS iopened
        FROM {database:Identifier}.invitations
        WHERE survey_id = {surveyId:String} ${segmentMatch}
        GROUP BY invitation_id
        HAVING countIf(stage = 'created') > 0
           AND icreated >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
           AND icreated < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
           ${q.channel === null ? '' : 'AND ich = {channel:String}'}
      ),
      by_id AS (
        SELECT response_id AS aid, 1 AS direct,
               argMin(category, responded_at) AS acat,
               argMin(comment IS NOT NULL, responded_at) AS acommented
        FROM {database:Identifier}.responses
        WHERE survey_id = {surveyId:String} AND response_id IN (SELECT iid FROM inv)
        GROUP BY response_id
      ),
      by_reply AS (
        SELECT aid, 0 AS direct, argMin(rcat, rat) AS acat, argMin(rcommented, rat) AS acommented
        FROM (
          SELECT r.rid AS rid, argMax(inv.iid, inv.icreated) AS aid, any(r.category) AS rcat,
                 any(r.comment IS NOT NULL) AS rcommented, any(r.responded_at) AS rat
          FROM inv
          INNER JOIN (
            SELECT response_id AS rid, respondent_id AS rrid, channel AS rch, responded_at,
                   category, comment
            FROM {database:Identifier}.responses
            WHERE survey_id = {surveyId:String} AND respondent_id IS NOT NULL
              AND response_id NOT IN (
                SELECT invitation_id FROM {database:Identifier}.invitations
                WHERE survey_id = {surveyId:String})
          ) AS r ON r.rrid = inv.irid AND r.rch = inv.ich
          WHERE r.responded_at >= inv.icreated AND r.responded_at < inv.iexpires
          GROUP BY r.rid
        )
        GROUP BY aid
      ),
      answers AS (
        SELECT aid, argMax(acat, direct) AS cat, argMax(acommented, direct) AS commented
        FROM (SELECT * FROM by_id UNION ALL SELECT * FROM by_reply)
        GROUP BY aid
      )
      SELECT (SELECT count() FROM inv) AS invited,
             (SELECT countIf(iopened) FROM inv) AS opened,
             count() AS responded,
             countIf(commented) AS commented_n,
             countIf(cat = 'promoter') AS promoters,
             countIf(cat = 'passive') AS passives,
             countIf(cat = 'detractor') AS detractors
      FROM answers`;
    const [row] = await queryRows<Record<string, string | number>>(
      this.#client,
      this.#database,
      sql,
      params,
    );
    const n = (key: string) => Number(row?.[key] ?? 0);
    const tally = { promoters: 0, passives: 0, detractors: 0 };
    for (const category of ['promoter', 'passive', 'detractor'] as const) {
      tally[FIELD[category]] = n(`${category}s`);
    }
    return {
      counts: {
        invited: n('invited'),
        opened: n('opened'),
        responded: n('responded'),
        commented: n('commented_n'),
      },
      responders: tally,
    };
  }
}
