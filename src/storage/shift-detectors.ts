import type { Redis } from 'ioredis';
import type { Channel } from '../domain/response.js';
import { detectorId, observeBatch } from '../domain/shift-event.js';
import type { ShiftEvent, ShiftInput, VersionedShiftState } from '../domain/shift-event.js';
import type { ShiftOptions, ShiftState } from '../domain/shift.js';
import { luaScript } from './lua-script.js';
import { RedisKeys } from './redis-keys.js';

/**
 * The shift detectors' state in Redis, and the shifts on their way to ClickHouse. The keys (see
 * src/storage/redis-keys.ts), all under the prefix, kept without expiry (a detector of a quiet survey must not forget its
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

/** Replies of the compare-and-set script; the one place they are written down (the script
 * declares the same). */
export const SHIFTS_STORED = 1;
export const SHIFTS_CONFLICT = 0;

// KEYS, ARGV and the reply: src/storage/lua/shifts-store-states.lua.
const STORE_SHIFT_STATES = luaScript('shifts-store-states', { SHIFTS_STORED, SHIFTS_CONFLICT });

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
  readonly #keys: RedisKeys;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    this.#commands = redis as unknown as ShiftCommands;
    this.#keys = new RedisKeys(options.prefix);
    redis.defineCommand('npsStoreShiftStates', { lua: STORE_SHIFT_STATES });
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
    const keys = order.map((id) => this.#keys.shiftState(id));
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
          this.#keys.lastShift(detectorId({ surveyId: shift.surveyId, channel: shift.channel })),
        );
      }
      const reply = await this.#commands.npsStoreShiftStates(
        keys.length + 1,
        [this.#keys.pendingShifts, ...keys],
        args,
      );
      if (reply === SHIFTS_STORED) return shifts;
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`shift detector states changed under us ${attempt} times in a row`);
    }
  }

  /** The shifts stored with their detectors and not yet confirmed in ClickHouse. */
  async pending(): Promise<ShiftEvent[]> {
    const all = await this.#redis.hgetall(this.#keys.pendingShifts);
    return Object.values(all).map((json) => JSON.parse(json) as ShiftEvent);
  }

  /** Forgets pending shifts, once ClickHouse holds them. */
  async clearPending(shiftIds: readonly string[]): Promise<void> {
    if (shiftIds.length > 0) await this.#redis.hdel(this.#keys.pendingShifts, ...shiftIds);
  }

  /** The latest shift of a survey (channel null) or of one of its channels, as JSON; or null. */
  async lastShift(surveyId: string, channel: Channel | null): Promise<string | null> {
    return this.#redis.get(this.#keys.lastShift(detectorId({ surveyId, channel })));
  }
}
