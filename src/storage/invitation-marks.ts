import type { Redis } from 'ioredis';
import { luaScript } from './lua-script.js';
import { RedisKeys } from './redis-keys.js';

/**
 * Invitation state in Redis, shared by every ingest process (keys: src/storage/redis-keys.ts):
 *
 * - `inv:<invitationId>` = "<fingerprint>|<createdAt ms>", kept for the link lifetime: a retry with
 *   the same invitationId finds its first creation and gets the same token (same expiry), and is
 *   never throttled by its own first attempt. The fingerprint is a hash of the content, so a
 *   different invitation under a used id is told apart without keeping who it was for.
 * - `recontact:<respondentId>` = "<invitationId or empty>|<contact ms>", expiring when the
 *   recontact window (NPS_RECONTACT_DAYS) after the latest contact ends. The respondent id is the
 *   pseudonym ingest keeps (respondentIdFrom), never an email or phone number. An invitation sets
 *   it in the same script that checks it, so two processes inviting one person at once let only
 *   one through; an answer (set by the stream processor) moves it forward.
 * - `opened:<invitationId>`: the first GET of a link, so "opened" is published once per invitation
 *   however often scanners and people open it.
 */

/** Reply codes of RESERVE, the one place they are written down (the script declares the same). */
export const CREATED = 1;
export const EXISTING = 2;
export const THROTTLED = 3;
export const CONFLICT = 4;

export type Reservation =
  | { readonly outcome: 'created' | 'existing'; readonly createdAt: number }
  | { readonly outcome: 'throttled'; readonly throttledUntil: number }
  | { readonly outcome: 'conflict' };

// The scripts, with their KEYS, ARGV and replies, are in src/storage/lua/invitation-*.lua.
const RESERVE = luaScript('invitation-reserve', { CREATED, EXISTING, THROTTLED, CONFLICT });
const RELEASE = luaScript('invitation-release');
const ANSWERED = luaScript('invitation-answered');

export interface ReserveRequest {
  readonly invitationId: string;
  readonly fingerprint: string;
  readonly respondentId: string | null;
  readonly now: number;
  /** How long the invitation id is remembered (the link lifetime). */
  readonly ttlMs: number;
}

export class InvitationMarks {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #windowMs: number;

  /** `recontactDays` 0 turns throttling off (nothing is marked). */
  constructor(redis: Redis, options: { prefix: string; recontactDays: number }) {
    this.#redis = redis;
    this.#keys = new RedisKeys(options.prefix);
    this.#windowMs = options.recontactDays * 24 * 3_600_000;
    redis.defineCommand('npsInvitationReserve', { numberOfKeys: 2, lua: RESERVE });
    redis.defineCommand('npsInvitationRelease', { numberOfKeys: 2, lua: RELEASE });
    redis.defineCommand('npsInvitationAnswered', { numberOfKeys: 1, lua: ANSWERED });
  }

  /**
   * Reserves invitations in order, in one round trip: each is created (and marks its respondent),
   * found again (a retry), throttled (its respondent was contacted within the window) or in
   * conflict (its id names another invitation). Items later in the list see the marks of earlier
   * ones, so a batch inviting one person twice invites them once.
   */
  async reserve(requests: readonly ReserveRequest[]): Promise<Reservation[]> {
    const pipeline = this.#redis.pipeline();
    for (const r of requests) {
      (pipeline as unknown as Commands).npsInvitationReserve(
        this.#keys.invitation(r.invitationId),
        this.#keys.recontact(r.respondentId),
        r.fingerprint,
        String(r.now),
        String(this.#windowMs),
        String(r.ttlMs),
        r.invitationId,
        r.respondentId === null ? '0' : '1',
      );
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, reply]) => {
      if (error) throw error;
      const [code, ms] = reply as [number, string];
      if (code === CREATED) return { outcome: 'created', createdAt: Number(ms) };
      if (code === EXISTING) return { outcome: 'existing', createdAt: Number(ms) };
      if (code === THROTTLED) return { outcome: 'throttled', throttledUntil: Number(ms) };
      return { outcome: 'conflict' };
    });
  }

  /**
   * Takes back what `reserve` created for invitations that were then not recorded (Kafka refused
   * them): otherwise a respondent would be throttled by an invitation that does not exist.
   */
  async release(
    created: readonly (ReserveRequest & { readonly createdAt: number })[],
  ): Promise<void> {
    if (created.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const r of created) {
      (pipeline as unknown as Commands).npsInvitationRelease(
        this.#keys.invitation(r.invitationId),
        this.#keys.recontact(r.respondentId),
        `${r.fingerprint}|${r.createdAt}`,
        r.respondentId === null ? '' : `${r.invitationId}|${r.createdAt}`,
      );
    }
    await pipeline.exec();
  }

  /** Marks answers (respondent, answered at ms) as contacts; nothing when throttling is off. */
  async answered(
    answers: readonly { respondentId: string; at: number }[],
    now: number,
  ): Promise<void> {
    if (this.#windowMs === 0 || answers.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const a of answers) {
      (pipeline as unknown as Commands).npsInvitationAnswered(
        this.#keys.recontact(a.respondentId),
        String(a.at),
        String(this.#windowMs),
        String(now),
      );
    }
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }

  /** Whether this is the first open of the link (kept until the link expires). */
  async firstOpen(invitationId: string, expiresAt: number, now: number): Promise<boolean> {
    const ttl = Math.max(1000, expiresAt - now);
    const set = await this.#redis.set(this.#keys.opened(invitationId), '1', 'PX', ttl, 'NX');
    return set === 'OK';
  }

  /** Forgets a first open whose fact could not be published, so the next open publishes it. */
  async forgetOpen(invitationId: string): Promise<void> {
    await this.#redis.del(this.#keys.opened(invitationId));
  }

  /** Erasure: the respondent's recontact mark. Returns how many marks were deleted (0 or 1). */
  async erase(respondentId: string): Promise<number> {
    return this.#redis.del(this.#keys.recontact(respondentId));
  }
}

interface Commands {
  npsInvitationReserve(...args: string[]): void;
  npsInvitationRelease(...args: string[]): void;
  npsInvitationAnswered(...args: string[]): void;
}
