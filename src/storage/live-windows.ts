import type { Redis } from 'ioredis';
import { classify } from '../domain/classification.js';
import type { Tally } from '../domain/nps.js';
import type { Channel, NpsResponse } from '../domain/response.js';
import {
  bucketExpiry,
  bucketsOf,
  coveringBuckets,
  LONGEST_WINDOW_MINUTES,
  windowRange,
} from '../domain/windows.js';
import type { WindowName } from '../domain/windows.js';

/**
 * Live NPS windows in Redis. Each (survey, channel or all) has minute, hour and day buckets: hashes
 * with fields p, s, d (promoters, passives, detractors) that expire once no window can reach them.
 *
 * Exactly once: a batch from one Kafka partition is applied by one Lua script, atomically with
 * that partition's offset fence (records at or below it were applied before and are skipped), and
 * with a first-copy mark per responseId (`seen:<id>` = "partition:offset" of the first record
 * seen with that id). A record counts only when it is that first copy, so retries and duplicate
 * submissions count once, and a replay after a crash counts nothing again.
 */

export interface LiveRecord {
  readonly response: NpsResponse;
  readonly partition: number;
  readonly offset: string;
}

const CATEGORY_FIELD = { promoter: 'p', passive: 's', detractor: 'd' } as const;

// KEYS[1]: the partition's fence. ARGV: seen ttl (s), record count, then per record:
// seen key, mark, offset, category field, bucket count, then (bucket key, expire-at s) pairs.
// Returns 1 for each record that is the first copy of its responseId, else 0.
const APPLY_BATCH = `
local fence = tonumber(redis.call('GET', KEYS[1]) or '-1')
local ttl = ARGV[1]
local n = tonumber(ARGV[2])
local i = 3
local firsts = {}
local incr = {}
local expiry = {}
local top = fence
for r = 1, n do
  local seenKey, mark, offset, field, nb = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], tonumber(ARGV[i + 4])
  local first = redis.call('SET', seenKey, mark, 'NX', 'EX', ttl)
  if first then first = true else first = (redis.call('GET', seenKey) == mark) end
  firsts[r] = first and 1 or 0
  local j = i + 5
  if first and offset > fence then
    for b = 1, nb do
      local key, at = ARGV[j], tonumber(ARGV[j + 1])
      incr[key] = incr[key] or {}
      incr[key][field] = (incr[key][field] or 0) + 1
      if (expiry[key] or 0) < at then expiry[key] = at end
      j = j + 2
    end
  end
  if offset > top then top = offset end
  i = i + 5 + 2 * nb
end
for key, fields in pairs(incr) do
  for field, count in pairs(fields) do redis.call('HINCRBY', key, field, count) end
  redis.call('EXPIREAT', key, expiry[key])
end
if top > fence then redis.call('SET', KEYS[1], string.format('%d', top)) end
return firsts
`;

export class LiveWindows {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #seenTtlSeconds: number;

  constructor(redis: Redis, options: { prefix: string; dedupeDays: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#seenTtlSeconds = options.dedupeDays * 86_400;
    redis.defineCommand('npsApplyBatch', { numberOfKeys: 1, lua: APPLY_BATCH });
  }

  #bucketKey(surveyId: string, channel: Channel | null, level: string, index: number): string {
    return `${this.#prefix}live:${surveyId}:${channel ?? '*'}:${level}:${index}`;
  }

  /**
   * Applies one partition's records in one round trip; returns, per record, whether it is the first
   * copy of its responseId (what the history sink must write).
   */
  async applyPartitionBatch(
    topic: string,
    partition: number,
    records: readonly LiveRecord[],
    nowMs: number,
  ): Promise<boolean[]> {
    if (records.length === 0) return [];
    const args: (string | number)[] = [this.#seenTtlSeconds, records.length];
    const oldest = nowMs - (LONGEST_WINDOW_MINUTES + 1) * 60_000;
    for (const { response, offset } of records) {
      const buckets = response.respondedAt >= oldest ? bucketsOf(response.respondedAt) : [];
      args.push(
        `${this.#prefix}seen:${response.responseId}`,
        `${partition}:${offset}`,
        offset,
        CATEGORY_FIELD[classify(response.score)],
        buckets.length * 2,
      );
      for (const bucket of buckets) {
        const expireAt = Math.ceil(bucketExpiry(bucket) / 1000);
        for (const channel of [null, response.channel]) {
          args.push(
            this.#bucketKey(response.surveyId, channel, bucket.level, bucket.index),
            expireAt,
          );
        }
      }
    }
    const fence = `${this.#prefix}fence:${topic}:${partition}`;
    const firsts = await (
      this.#redis as unknown as {
        npsApplyBatch(key: string, ...args: (string | number)[]): Promise<number[]>;
      }
    ).npsApplyBatch(fence, ...args);
    return firsts.map((f) => f === 1);
  }

  /** One window's counts, in one round trip of at most ~200 bucket reads. */
  async read(
    surveyId: string,
    channel: Channel | null,
    window: WindowName,
    nowMs: number,
  ): Promise<Tally & { from: number; to: number }> {
    const { from, to } = windowRange(window, nowMs);
    const pipeline = this.#redis.pipeline();
    for (const bucket of coveringBuckets(from, to)) {
      pipeline.hmget(this.#bucketKey(surveyId, channel, bucket.level, bucket.index), 'p', 's', 'd');
    }
    const results = (await pipeline.exec()) ?? [];
    const tally = { promoters: 0, passives: 0, detractors: 0 };
    for (const [error, value] of results) {
      if (error) throw error;
      const [p, s, d] = value as (string | null)[];
      tally.promoters += Number(p ?? 0);
      tally.passives += Number(s ?? 0);
      tally.detractors += Number(d ?? 0);
    }
    return { ...tally, from, to };
  }
}
