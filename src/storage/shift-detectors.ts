import type { Redis } from 'ioredis';
import type { Channel } from '../domain/response.js';
import { detectorId, observeBatch } from '../domain/shift-event.js';
import type { ShiftEvent, ShiftInput, VersionedShiftState } from '../domain/shift-event.js';
import type { ShiftOptions, ShiftState } from '../domain/shift.js';

/**
 * The shift detectors' state in Redis, and the shifts on their way to ClickHouse. The key layout,
 * all under the prefix, kept without expiry (a detector of a quiet survey must not forget its
 * baseline):
 *
 * - `shift:<surveyId>` and `shift:<surveyId>:<channel>`: a detector, JSON `{"v": version, "s":
 *   ShiftState}`; the version goes up by one at every write.
 * - `shifts:pending`: hash shift id -> shift JSON, written with the states that found the shifts
 *   and removed once the shifts are in ClickHouse (`nps.shifts`).
 * - `shift-last:<surveyId>` and `shift-last:<surveyId>:<channel>`: the latest shift JSON, which the
 *   SSE poller reads to push new shifts.
 *
 * Several processors may feed one survey (its responses are spread over partitions), so states
 * are written with compare-and-set on their versions: a processor that lost the race reads the
 * states again and applies its answers to them.
 */

/** Replies of the compare-and-set script; the one place they are written down. */
export const SHIFTS_STORED = 1;
export const SHIFTS_CONFLICT = 0;

// KEYS[1]: the pending hash, KEYS[2..n+1]: the detectors' state keys. ARGV[1]: n, then per state
// key: the version it was read at (0: absent) and its new JSON; then the shift count, and per
// shift: its id, its JSON and its shift-last key. Writes everything only when every state is
// still at the version it was read at. Replies SHIFTS_STORED or SHIFTS_CONFLICT.
const STORE_SHIFT_STATES = `
local n = tonumber(ARGV[1])
for k = 1, n do
  local raw = redis.call('GET', KEYS[k + 1])
  local version = 0
  if raw then version = tonumber(cjson.decode(raw).v) end
  if version ~= tonumber(ARGV[2 * k]) then return ${SHIFTS_CONFLICT} end
end
for k = 1, n do redis.call('SET', KEYS[k + 1], ARGV[2 * k + 1]) end
local i = 2 * n + 2
local m = tonumber(ARGV[i])
for s = 1, m do
  redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[i + 2])
  redis.call('SET', ARGV[i + 3], ARGV[i + 2])
  i = i + 3
end
return ${SHIFTS_STORED}
`;

interface ShiftCommands {
  npsStoreShiftStates(
    numberOfKeys: number,
    keys: string[],
    args: (string | number)[],
  ): Promise<number>;
}

/** Gives up after this many lost races in a row (a bug, not contention, by then). */
const MAX_ATTEMPTS = 50;

export class ShiftDetectors {
  readonly #redis: Redis;
  readonly #commands: ShiftCommands;
  readonly #prefix: string;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    this.#commands = redis as unknown as ShiftCommands;
    this.#prefix = options.prefix;
    redis.defineCommand('npsStoreShiftStates', { lua: STORE_SHIFT_STATES });
  }

  #stateKey(id: string): string {
    return `${this.#prefix}shift:${id}`;
  }

  #lastKey(id: string): string {
    return `${this.#prefix}shift-last:${id}`;
  }

  get #pendingKey(): string {
    return `${this.#prefix}shifts:pending`;
  }

  /**
   * Feeds answers counted now, in stream order, to their detectors and stores the new states
   * together with the shifts they found (pending, until {@link clearPending}). Returns the shifts.
   */
  async observe(
    inputs: readonly ShiftInput[],
    options?: ShiftOptions,
  ): Promise<readonly ShiftEvent[]> {
    if (inputs.length === 0) return [];
    const ids = new Set<string>();
    for (const { surveyId, channel } of inputs) {
      ids.add(detectorId({ surveyId, channel: null }));
      ids.add(detectorId({ surveyId, channel }));
    }
    const order = [...ids];
    const keys = order.map((id) => this.#stateKey(id));
    for (let attempt = 1; ; attempt++) {
      const raw = await this.#redis.mget(...keys);
      const stored = new Map<string, VersionedShiftState>();
      order.forEach((id, i) => {
        const value = raw[i];
        if (value) {
          const parsed = JSON.parse(value) as { v: number; s: ShiftState };
          stored.set(id, { version: parsed.v, state: parsed.s });
        }
      });
      const { states, shifts } = observeBatch(stored, inputs, options);
      const args: (string | number)[] = [order.length];
      for (const id of order) {
        const next = states.get(id);
        if (!next) throw new Error(`no state computed for detector ${id}`);
        args.push(next.version - 1, JSON.stringify({ v: next.version, s: next.state }));
      }
      args.push(shifts.length);
      for (const shift of shifts) {
        args.push(
          shift.shiftId,
          JSON.stringify(shift),
          this.#lastKey(detectorId({ surveyId: shift.surveyId, channel: shift.channel })),
        );
      }
      const reply = await this.#commands.npsStoreShiftStates(
        keys.length + 1,
        [this.#pendingKey, ...keys],
        args,
      );
      if (reply === SHIFTS_STORED) return shifts;
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`shift detector states changed under us ${attempt} times in a row`);
    }
  }

  /** The shifts stored with their detectors and not yet confirmed in ClickHouse. */
  async pending(): Promise<ShiftEvent[]> {
    const all = await this.#redis.hgetall(this.#pendingKey);
    return Object.values(all).map((json) => JSON.parse(json) as ShiftEvent);
  }

  /** Forgets pending shifts, once ClickHouse holds them. */
  async clearPending(shiftIds: readonly string[]): Promise<void> {
    if (shiftIds.length > 0) await this.#redis.hdel(this.#pendingKey, ...shiftIds);
  }

  /** The latest shift of a survey (channel null) or of one of its channels, as JSON; or null. */
  async lastShift(surveyId: string, channel: Channel | null): Promise<string | null> {
    return this.#redis.get(this.#lastKey(detectorId({ surveyId, channel })));
  }
}
