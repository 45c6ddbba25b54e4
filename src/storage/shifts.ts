import type { ClickHouseClient } from '@clickhouse/client';
import type { Channel } from '../domain/response.js';
import type { ShiftEvent } from '../domain/shift-event.js';

export interface ShiftQuery {
  readonly surveyId: string;
  /** One channel's detector; null for the survey's all-channel detector. */
  readonly channel: Channel | null;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
}

type Row = Record<string, string | number>;

/**
 * The shifts kept in ClickHouse (`shifts`, schemas/clickhouse/005_shifts.sql). A shift inserted
 * twice (a crash between the insert and forgetting it in Redis) has one id, and reads use FINAL,
 * so it is listed once.
 */
export class ShiftStore {
  readonly #client: ClickHouseClient;
  readonly #database: string;

  constructor(client: ClickHouseClient, database: string) {
    this.#client = client;
    this.#database = database;
  }

  async insert(shifts: readonly ShiftEvent[]): Promise<void> {
    if (shifts.length === 0) return;
    await this.#client.insert({
      table: `${this.#database}.shifts`,
      format: 'JSONEachRow',
      values: shifts.map((s) => ({
        shift_id: s.shiftId,
        survey_id: s.surveyId,
        channel: s.channel ?? '',
        direction: s.direction,
        before: s.before,
        after: s.after,
        detected_at: s.detectedAt,
        responses_since_change: s.responsesSinceChange,
      })),
    });
  }

  /** The shifts detected in the range, newest first. */
  async list(q: ShiftQuery): Promise<ShiftEvent[]> {
    const result = await this.#client.query({
      query: `SELECT shift_id, survey_id, channel, direction, \`before\`, \`after\`,
                     toUnixTimestamp64Milli(detected_at) AS detected_ms, responses_since_change
              FROM {database:Identifier}.shifts FINAL
              WHERE survey_id = {surveyId:String} AND channel = {channel:String}
                AND detected_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
                AND detected_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
              ORDER BY detected_at DESC, shift_id
              LIMIT 1000`,
      format: 'JSONEachRow',
      query_params: {
        database: this.#database,
        surveyId: q.surveyId,
        channel: q.channel ?? '',
        from: q.from,
        to: q.to,
      },
    });
    const rows = await result.json<Row>();
    return rows.map((r) => ({
      shiftId: String(r.shift_id),
      surveyId: String(r.survey_id),
      channel: r.channel === '' ? null : (String(r.channel) as Channel),
      direction: r.direction === 'up' ? 'up' : 'down',
      before: Number(r.before),
      after: Number(r.after),
      detectedAt: new Date(Number(r.detected_ms)).toISOString(),
      responsesSinceChange: Number(r.responses_since_change),
    }));
  }
}
