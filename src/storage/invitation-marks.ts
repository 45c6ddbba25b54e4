import type { Redis } from 'ioredis';

/**
 * Invitation state in Redis, shared by every ingest process (this module owns the key layout):
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

/** Reply codes of RESERVE, the one place they are written down (pasted into the Lua below). */
export const CREATED = 1;
export const EXISTING = 2;
export const THROTTLED = 3;
export const CONFLICT = 4;

export type Reservation =
  | { readonly outcome: 'created' | 'existing'; readonly createdAt: number }
  | { readonly outcome: 'throttled'; readonly throttledUntil: number }
  | { readonly outcome: 'conflict' };

// KEYS[1]: inv:<id>, KEYS[2]: recontact:<respondent> (any key when there is no respondent).
// ARGV: fingerprint, now (ms), recontact window (ms; 0: off), invitation ttl (ms), invitation id,
// '1' when there is a respondent. Reply: {code, ms}: CREATED with now, EXISTING with the first
// creation, THROTTLED with the end of the window, CONFLICT with 0.
const RESERVE = `
local existing = redis.call('GET', KEYS[1])
if existing then
  local fp, created = string.match(existing, '^(.*)|(%d+)$')
  if fp ~= ARGV[1] then return { ${CONFLICT}, '0' } end
  return { ${EXISTING}, created }
end
local now, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local watched = ARGV[6] == '1' and window > 0
if watched then
  local mark = redis.call('GET', KEYS[2])
  local at = mark and tonumber(string.match(mark, '|(%d+)$'))
  if at and at + window > now then return { ${THROTTLED}, string.format('%d', at + window) } end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[4])
if watched then redis.call('SET', KEYS[2], ARGV[5] .. '|' .. ARGV[2], 'PX', window) end
return { ${CREATED}, ARGV[2] }
`;

// KEYS: inv:<id>, recontact:<respondent>. ARGV: their values as RESERVE set them. Deletes each only
// while it still holds that value, so a rollback never removes a later contact's mark.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 0
`;

// KEYS[1]: recontact:<respondent>. ARGV: answered at (ms), window (ms), now (ms). Moves the mark to
// the answer unless it holds a later contact already; nothing when the window is over.
const ANSWERED = `
local at = tonumber(ARGV[1])
local mark = redis.call('GET', KEYS[1])
local before = mark and tonumber(string.match(mark, '|(%d+)$'))
if before and before >= at then return 0 end
local left = at + tonumber(ARGV[2]) - tonumber(ARGV[3])
if left <= 0 then return 0 end
redis.call('SET', KEYS[1], '|' .. ARGV[1], 'PX', string.format('%d', left))
return 1
`;

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
  readonly #prefix: string;
  readonly #windowMs: number;

  /** `recontactDays` 0 turns throttling off (nothing is marked). */
  constructor(redis: Redis, options: { prefix: string; recontactDays: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#windowMs = options.recontactDays * 24 * 3_600_000;
    redis.defineCommand('npsInvitationReserve', { numberOfKeys: 2, lua: RESERVE });
    redis.defineCommand('npsInvitationRelease', { numberOfKeys: 2, lua: RELEASE });
    redis.defineCommand('npsInvitationAnswered', { numberOfKeys: 1, lua: ANSWERED });
  }

  #invKey(invitationId: string): string {
    return `${this.#prefix}inv:${invitationId}`;
  }

  #recontactKey(respondentId: string | null): string {
    return `${this.#prefix}recontact:${respondentId ?? ''}`;
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
        this.#invKey(r.invitationId),
        this.#recontactKey(r.respondentId),
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
        this.#invKey(r.invitationId),
        this.#recontactKey(r.respondentId),
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
        this.#recontactKey(a.respondentId),
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
    const set = await this.#redis.set(
      `${this.#prefix}opened:${invitationId}`,
      '1',
      'PX',
      ttl,
      'NX',
    );
    return set === 'OK';
  }

  /** Forgets a first open whose fact could not be published, so the next open publishes it. */
  async forgetOpen(invitationId: string): Promise<void> {
    await this.#redis.del(`${this.#prefix}opened:${invitationId}`);
  }

  /** Erasure: the respondent's recontact mark. Returns how many marks were deleted (0 or 1). */
  async erase(respondentId: string): Promise<number> {
    return this.#redis.del(this.#recontactKey(respondentId));
  }
}

interface Commands {
  npsInvitationReserve(...args: string[]): void;
  npsInvitationRelease(...args: string[]): void;
  npsInvitationAnswered(...args: string[]): void;
}
