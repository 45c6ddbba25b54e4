import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { EventType } from './types.js';

export const FORMATS = ['standard', 'slack'] as const;
export type Format = (typeof FORMATS)[number];

export interface Subscription {
  readonly subscriptionId: string;
  readonly url: string;
  readonly events: readonly EventType[];
  /** Only this survey's events; null for every survey. */
  readonly surveyId: string | null;
  readonly format: Format;
  /** `whsec_` + base64 of 24 random bytes (Standard Webhooks). */
  readonly secret: string;
  /** ISO-8601, UTC. */
  readonly createdAt: string;
}

/** One delivery attempt as logged (GET /v1/subscriptions/<id>/deliveries). */
export interface DeliveryAttempt {
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly webhookId: string;
  readonly eventType: string;
  readonly attempt: number;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  readonly outcome: 'delivered' | 'failed' | 'dead-lettered' | 'withheld';
  readonly latencyMs: number;
  readonly error: string;
  readonly respondentId: string | null;
  /** Epoch ms. */
  readonly attemptedAt: number;
}

type Row = Record<string, unknown>;

/** A new Standard Webhooks secret. */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * Subscriptions and their delivery log in ClickHouse (schemas/clickhouse/011, 012). Secrets are
 * sealed with AES-256-GCM under a key derived from `key`, because the SQL endpoint lets its keys
 * read every table of the database.
 */
export class SubscriptionStore {
  readonly #client: ClickHouseClient;
  readonly #database: string;
  readonly #key: Buffer;

  constructor(client: ClickHouseClient, database: string, key: Buffer) {
    this.#client = client;
    this.#database = database;
    this.#key = createHash('sha256').update('nps-webhook-secrets\u0000').update(key).digest();
  }

  #seal(secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  #open(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  async create(s: Subscription): Promise<void> {
    await this.#client.insert({
      table: `${this.#database}.webhook_subscriptions`,
      format: 'JSONEachRow',
      values: [
        {
          subscription_id: s.subscriptionId,
          url: s.url,
          events: s.events,
          survey_id: s.surveyId ?? '',
          format: s.format,
          secret_sealed: this.#seal(s.secret),
          created_at: s.createdAt,
          deleted: 0,
          version: Date.now() * 2,
        },
      ],
    });
  }

  /** Marks it deleted; false when there was no live subscription of that id. */
  async delete(subscriptionId: string): Promise<boolean> {
    const rows = await this.#rows(subscriptionId);
    const row = rows[0];
    if (!row) return false;
    await this.#client.insert({
      table: `${this.#database}.webhook_subscriptions`,
      format: 'JSONEachRow',
      values: [{ ...row, deleted: 1, version: Date.now() * 2 + 1 }],
    });
    return true;
  }

  async get(subscriptionId: string): Promise<Subscription | undefined> {
    const row = (await this.#rows(subscriptionId))[0];
    return row && this.#toSubscription(row);
  }

  /** Every live subscription. */
  /**
   * Every subscription. One whose secret does not open (sealed under another NPS_SESSION_SECRET)
   * is left out and named to `unreadable`, so that it stops only its own deliveries.
   */
  async list(unreadable?: (subscriptionId: string) => void): Promise<Subscription[]> {
    return (await this.#rows(null)).flatMap((r) => {
      try {
        return [this.#toSubscription(r)];
      } catch {
        unreadable?.(String(r.subscription_id));
        return [];
      }
    });
  }

  async #rows(subscriptionId: string | null): Promise<Row[]> {
    const result = await this.#client.query({
      query: `SELECT subscription_id, url, events, survey_id, format, secret_sealed,
                     formatDateTime(created_at, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS created_iso,
                     deleted, version
              FROM {database:Identifier}.webhook_subscriptions FINAL
              WHERE deleted = 0 AND ({id:String} = '' OR subscription_id = {id:String})
              ORDER BY created_at, subscription_id`,
      format: 'JSONEachRow',
      query_params: { database: this.#database, id: subscriptionId ?? '' },
    });
    return result.json<Row>();
  }

  #toSubscription(r: Row): Subscription {
    return {
      subscriptionId: String(r.subscription_id),
      url: String(r.url),
      events: r.events as EventType[],
      surveyId: r.survey_id === '' ? null : String(r.survey_id),
      format: r.format === 'slack' ? 'slack' : 'standard',
      secret: this.#open(String(r.secret_sealed)),
      createdAt: String(r.created_iso).replace(/\.(\d{3})\d*Z$/, '.$1Z'),
    };
  }

  async logAttempts(attempts: readonly DeliveryAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    await this.#client.insert({
      table: `${this.#database}.webhook_deliveries`,
      format: 'JSONEachRow',
      values: attempts.map((a) => ({
        subscription_id: a.subscriptionId,
        event_id: a.eventId,
        webhook_id: a.webhookId,
        event_type: a.eventType,
        attempt: a.attempt,
        status: a.status,
        outcome: a.outcome,
        latency_ms: Math.max(0, Math.round(a.latencyMs)),
        error: a.error,
        respondent_id: a.respondentId ?? '',
        attempted_at: new Date(a.attemptedAt).toISOString(),
      })),
    });
  }

  /** The latest attempts of a subscription, newest first. */
  async attempts(subscriptionId: string, limit: number): Promise<DeliveryAttempt[]> {
    const result = await this.#client.query({
      query: `SELECT subscription_id, event_id, webhook_id, event_type, attempt, status, outcome,
                     latency_ms, error, respondent_id,
                     toUnixTimestamp64Milli(attempted_at) AS attempted_ms
              FROM {database:Identifier}.webhook_deliveries
              WHERE subscription_id = {id:String}
              ORDER BY attempted_at DESC, event_id
              LIMIT {limit:UInt32}`,
      format: 'JSONEachRow',
      query_params: { database: this.#database, id: subscriptionId, limit },
    });
    return (await result.json<Row>()).map((r) => ({
      subscriptionId: String(r.subscription_id),
      eventId: String(r.event_id),
      webhookId: String(r.webhook_id),
      eventType: String(r.event_type),
      attempt: Number(r.attempt),
      status: Number(r.status),
      outcome: String(r.outcome) as DeliveryAttempt['outcome'],
      latencyMs: Number(r.latency_ms),
      error: String(r.error),
      respondentId: r.respondent_id === '' ? null : String(r.respondent_id),
      attemptedAt: Number(r.attempted_ms),
    }));
  }

  /** Deletes the logged attempts about a respondent; resolves to how many there were. */
  async eraseAttempts(respondentId: string): Promise<number> {
    const counted = await this.#client.query({
      query: `SELECT count() AS n FROM {database:Identifier}.webhook_deliveries
              WHERE respondent_id = {rid:String}`,
      format: 'JSONEachRow',
      query_params: { database: this.#database, rid: respondentId },
    });
    const n = Number((await counted.json<{ n: string }>())[0]?.n ?? 0);
    if (n > 0) {
      await this.#client.command({
        query: `ALTER TABLE {database:Identifier}.webhook_deliveries
                DELETE WHERE respondent_id = {rid:String}`,
        clickhouse_settings: { mutations_sync: '2' },
        query_params: { database: this.#database, rid: respondentId },
      });
    }
    return n;
  }
}
