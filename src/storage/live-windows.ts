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
import { erasureTag } from '../domain/erasure.js';
import { DEFAULT_SEGMENT_MAX_VALUES, OTHER_SEGMENT } from '../domain/segment.js';

/**
 * Live NPS windows in Redis. Each (survey, channel or all) has minute, hour and day buckets: hashes
 * with fields p, s, d (promoters, passives, detractors) that expire once no window can reach them.
 *
 * Exactly once: a batch from one Kafka partition is applied by one Lua script, atomically with
 * that partition's offset fence (records at or below it were applied before and are skipped), and
 * with a first-copy mark per responseId (`seen:<id>` = "partition:offset" of the first record
 * seen with that id). A record counts only when it is that first copy, so retries and duplicate
 * submissions count once, and a replay after a crash counts nothing again.
 *
 * Segments: for each key of NPS_SEGMENT_KEYS a response has, it also counts in the same buckets
 * sliced by that key's value (`...:<level>:<index>:<key>=<value>`, key and value URI-encoded), so
 * 6 more small hashes (3 levels, all channels and its own) per key. Per survey and key at most
 * `segmentMaxValues` values are tracked (`segvals:<survey>:<key>`, a set admitted to atomically in
 * the batch script, in the order records count); further values count under `other`. A value is
 * mapped once, when its record counts, and the mapping goes into the respondent index, so erasure
 * takes it out of the very bucket it went into. The set lives as long as a bucket it decided.
 *
 * Erasure: a record with a respondent id is also indexed under `resp:<respondentId>` while any
 * window can still hold it, so `erase` can take exactly that respondent's counts back out. An
 * erased respondent gets `erased:<tag>` (tag: a keyed hash, not the id) holding the instant up to
 * which their responses are erased: the batch script never counts or stores such a record again,
 * whenever Kafka replays it. `erasures` counts erasures, so a processor can tell whether one
 * happened while it was writing a batch.
 */

export interface LiveRecord {
  readonly response: NpsResponse;
  readonly partition: number;
  readonly offset: string;
}

/**
 * What the batch script decided for one record. The one place these codes are written down: the
 * Lua script below is built from them.
 */
/** A first copy counted now (above the partition's fence): history stores it, detectors see it. */
export const FIRST_COPY = 1;
/** A repeat of a responseId whose first copy was another record: nothing to do. */
export const REPEAT = 0;
/** A record of an erased respondent: never counted or stored. */
export const ERASED = 2;
/**
 * A first copy at or below the fence: counted before, now replayed. History still gets it (its own
 * fence skips it when stored already), but nothing derived from the stream sees it again.
 */
export const FIRST_COPY_REPLAYED = 3;

/** Whether the history sink must store the record (it is the first copy of its responseId). */
export function isFirstCopy(outcome: number | undefined): boolean {
  return outcome === FIRST_COPY || outcome === FIRST_COPY_REPLAYED;
}

const CATEGORY_FIELD = { promoter: 'p', passive: 's', detractor: 'd' } as const;

// KEYS[1]: the partition's fence, KEYS[2]: the erasure counter. ARGV: seen ttl (s), record count,
// segment values tracked per survey and key, then per record: seen key, mark, offset, category
// field, erased key or '', received at (ms), respondent index key or '', index field, index value,
// index expire-at (s), bucket count, then (bucket key, expire-at s) pairs, segment count, then
// (encoded key, admitted set key, encoded value) triples. Returns per record FIRST_COPY,
// FIRST_COPY_REPLAYED, REPEAT or ERASED (the constants above, pasted in), then the erasure counter.
const APPLY_BATCH = `
local fence = tonumber(redis.call('GET', KEYS[1]) or '-1')
local ttl = ARGV[1]
local n = tonumber(ARGV[2])
local maxValues = tonumber(ARGV[3])
local i = 4
local out = {}
local incr = {}
local expiry = {}
local top = fence
for r = 1, n do
  local seenKey, mark, offset, field = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local erasedKey, receivedAt = ARGV[i + 4], tonumber(ARGV[i + 5])
  local indexKey, indexField, indexValue, indexAt = ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], tonumber(ARGV[i + 9])
  local nb = tonumber(ARGV[i + 10])
  local s = i + 11 + 2 * nb
  local ns = tonumber(ARGV[s])
  local erased = false
  if erasedKey ~= '' then
    local cut = redis.call('GET', erasedKey)
    erased = cut ~= false and receivedAt <= tonumber(cut)
  end
  if erased then
    out[r] = ${ERASED}
  else
    local first = redis.call('SET', seenKey, mark, 'NX', 'EX', ttl)
    if first then first = true else first = (redis.call('GET', seenKey) == mark) end
    if not first then
      out[r] = ${REPEAT}
    elseif offset <= fence then
      out[r] = ${FIRST_COPY_REPLAYED}
    else
      out[r] = ${FIRST_COPY}
      -- Each segment value is mapped here, once: tracked already, admitted while there is room,
      -- else other. Too old to count anywhere (no buckets): nothing to admit.
      local tags = {}
      if nb > 0 and ns > 0 then
        -- The set lives as long as the longest-lived bucket it decided for.
        local lastAt = 0
        for b = 1, nb do
          local at = tonumber(ARGV[i + 10 + 2 * b])
          if lastAt < at then lastAt = at end
        end
        for d = 1, ns do
          local encKey, setKey, value = ARGV[s + 3 * d - 2], ARGV[s + 3 * d - 1], ARGV[s + 3 * d]
          local mapped = '${OTHER_SEGMENT}'
          if value ~= '${OTHER_SEGMENT}' then
            if redis.call('SISMEMBER', setKey, value) == 1 then
              mapped = value
            elseif redis.call('SCARD', setKey) < maxValues then
              redis.call('SADD', setKey, value)
              mapped = value
            end
          end
          tags[d] = encKey .. '=' .. mapped
          if (expiry[setKey] or 0) < lastAt then expiry[setKey] = lastAt end
        end
      end
      local j = i + 11
      for b = 1, nb do
        local key, at = ARGV[j], tonumber(ARGV[j + 1])
        incr[key] = incr[key] or {}
        incr[key][field] = (incr[key][field] or 0) + 1
        if (expiry[key] or 0) < at then expiry[key] = at end
        for _, tag in ipairs(tags) do
          local sliced = key .. ':' .. tag
          incr[sliced] = incr[sliced] or {}
          incr[sliced][field] = (incr[sliced][field] or 0) + 1
          if (expiry[sliced] or 0) < at then expiry[sliced] = at end
        end
        j = j + 2
      end
      if indexKey ~= '' and nb > 0 then
        local entry = indexValue
        for _, tag in ipairs(tags) do entry = entry .. '\\t' .. tag end
        redis.call('HSET', indexKey, indexField, entry)
        if (expiry[indexKey] or 0) < indexAt then expiry[indexKey] = indexAt end
      end
    end
  end
  if offset > top then top = offset end
  i = s + 1 + 3 * ns
end
for key, fields in pairs(incr) do
  for field, count in pairs(fields) do redis.call('HINCRBY', key, field, count) end
end
for key, at in pairs(expiry) do
  if redis.call('EXPIRETIME', key) < at then redis.call('EXPIREAT', key, at) end
end
if top > fence then redis.call('SET', KEYS[1], string.format('%d', top)) end
out[n + 1] = tonumber(redis.call('GET', KEYS[2]) or '0')
return out
`;

// KEYS: erased key, respondent index, erasure counter. ARGV: now (ms). Marks the respondent
// erased up to now or the latest receivedAt in the index (so a clock behind ingest's cannot leave
// an indexed record outside the cut), counts the erasure, returns the cut and the index.
const BEGIN_ERASURE = `
local cut = tonumber(ARGV[1])
local entries = redis.call('HGETALL', KEYS[2])
for e = 2, #entries, 2 do
  local received = tonumber(string.match(entries[e], '^[^\\t]*\\t[^\\t]*\\t[^\\t]*\\t([^\\t]*)'))
  if received and received > cut then cut = received end
end
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
if before > cut then cut = before end
redis.call('SET', KEYS[1], string.format('%d', cut))
redis.call('INCR', KEYS[3])
return { string.format('%d', cut), entries }
`;

// KEYS[1]: respondent index. ARGV: count, then per record: index field, category field, bucket
// count, bucket keys. Takes each still-indexed record out of the buckets that still exist (an
// expired bucket no longer counts in any window); returns how many records it took out.
const FINISH_ERASURE = `
local n = tonumber(ARGV[1])
local i = 2
local removed = 0
for r = 1, n do
  local indexField, field, nb = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('HDEL', KEYS[1], indexField) == 1 then
    removed = removed + 1
    for b = 1, nb do
      local key = ARGV[i + 2 + b]
      if redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, field, -1) end
    end
  end
  i = i + 3 + nb
end
return removed
`;

const SCRIPT_CHUNK = 1000;

interface BucketRef {
  readonly key: string;
  /** When the bucket expires, epoch seconds. */
  readonly expireAt: number;
}

// Arguments go in one array, which ioredis flattens: spreading them into the call would overflow
// the stack for a large batch.
interface LiveWindowsCommands {
  npsApplyBatch(fence: string, erasures: string, args: (string | number)[]): Promise<number[]>;
  npsBeginErasure(
    erased: string,
    index: string,
    erasures: string,
    now: number,
  ): Promise<[string, string[]]>;
  npsFinishErasure(index: string, args: (string | number)[]): Promise<number>;
}

export class LiveWindows {
  readonly #redis: Redis;
  readonly #commands: LiveWindowsCommands;
  readonly #prefix: string;
  readonly #seenTtlSeconds: number;
  readonly #erasureSecret: string | undefined;
  readonly #segmentKeys: readonly string[];
  readonly #segmentMaxValues: number;

  constructor(
    redis: Redis,
    options: {
      prefix: string;
      dedupeDays: number;
      erasureSecret?: string | undefined;
      /** Segment keys the windows are sliced by (NPS_SEGMENT_KEYS). @default [] */
      segmentKeys?: readonly string[];
      /** Values tracked per survey and key before `other` (NPS_SEGMENT_MAX_VALUES). @default 200 */
      segmentMaxValues?: number;
    },
  ) {
    this.#redis = redis;
    this.#commands = redis as unknown as LiveWindowsCommands;
    this.#prefix = options.prefix;
    this.#seenTtlSeconds = options.dedupeDays * 86_400;
    this.#erasureSecret = options.erasureSecret;
    // Sorted, so a record's slices are listed (and indexed) the same way by every process.
    this.#segmentKeys = [...new Set(options.segmentKeys ?? [])].sort();
    this.#segmentMaxValues = options.segmentMaxValues ?? DEFAULT_SEGMENT_MAX_VALUES;
    redis.defineCommand('npsApplyBatch', { numberOfKeys: 2, lua: APPLY_BATCH });
    redis.defineCommand('npsBeginErasure', { numberOfKeys: 3, lua: BEGIN_ERASURE });
    redis.defineCommand('npsFinishErasure', { numberOfKeys: 1, lua: FINISH_ERASURE });
  }

  #bucketKey(surveyId: string, channel: Channel | null, level: string, index: number): string {
    return `${this.#prefix}live:${surveyId}:${channel ?? '*'}:${level}:${index}`;
  }

  /** The set of a survey's tracked values of a segment key (URI-encoded, like the key). */
  #admittedKey(surveyId: string, key: string): string {
    return `${this.#prefix}segvals:${surveyId}:${encodeURIComponent(key)}`;
  }

  /** The buckets (all-channel and per-channel) a response counts in; none once too old. */
  #bucketsOf(surveyId: string, channel: Channel, respondedAt: number, nowMs: number): BucketRef[] {
    if (respondedAt < nowMs - (LONGEST_WINDOW_MINUTES + 1) * 60_000) return [];
    const refs: BucketRef[] = [];
    for (const bucket of bucketsOf(respondedAt)) {
      const expireAt = Math.ceil(bucketExpiry(bucket) / 1000);
      refs.push(
        { key: this.#bucketKey(surveyId, null, bucket.level, bucket.index), expireAt },
        { key: this.#bucketKey(surveyId, channel, bucket.level, bucket.index), expireAt },
      );
    }
    return refs;
  }

  #erasedKey(respondentId: string): string {
    return `${this.#prefix}erased:${erasureTag(this.#erasureSecret, respondentId)}`;
  }

  #indexKey(respondentId: string): string {
    return `${this.#prefix}resp:${respondentId}`;
  }

  get #erasuresKey(): string {
    return `${this.#prefix}erasures`;
  }

  /**
   * Applies one partition's records, in offset order, a script call per 1,000 records (so Redis
   * is never held for long, and no call carries hundreds of thousands of arguments). Each call is
   * atomic with the fence, so a crash between calls is a smaller batch replayed. Returns, per
   * record, FIRST_COPY or FIRST_COPY_REPLAYED (what the history sink must write, see isFirstCopy),
   * REPEAT or ERASED, and the erasure counter as the first call saw it.
   */
  async applyPartitionBatch(
    topic: string,
    partition: number,
    records: readonly LiveRecord[],
    nowMs: number,
  ): Promise<{ outcomes: number[]; erasures: number }> {
    const fence = `${this.#prefix}fence:${topic}:${partition}`;
    const outcomes: number[] = [];
    let erasures: number | undefined;
    for (let start = 0; start < records.length; start += SCRIPT_CHUNK) {
      const chunk = records.slice(start, start + SCRIPT_CHUNK);
      const args: (string | number)[] = [
        this.#seenTtlSeconds,
        chunk.length,
        this.#segmentMaxValues,
      ];
      for (const { response, offset } of chunk)
        this.#pushRecordArgs(args, response, partition, offset, nowMs);
      const out = await this.#commands.npsApplyBatch(fence, this.#erasuresKey, args);
      outcomes.push(...out.slice(0, chunk.length));
      erasures ??= out[chunk.length] ?? 0;
    }
    return { outcomes, erasures: erasures ?? (await this.erasureCount()) };
  }

  /** Appends one record's arguments of the batch script (see APPLY_BATCH) to `args`. */
  #pushRecordArgs(
    args: (string | number)[],
    r: NpsResponse,
    partition: number,
    offset: string,
    nowMs: number,
  ): void {
    const field = CATEGORY_FIELD[classify(r.score)];
    const buckets = this.#bucketsOf(r.surveyId, r.channel, r.respondedAt, nowMs);
    args.push(`${this.#prefix}seen:${r.responseId}`, `${partition}:${offset}`, offset, field);
    if (r.respondentId === null) args.push('', r.receivedAt, '', '', '', 0);
    else {
      let indexAt = 0;
      for (const b of buckets) indexAt = Math.max(indexAt, b.expireAt);
      args.push(
        this.#erasedKey(r.respondentId),
        r.receivedAt,
        this.#indexKey(r.respondentId),
        r.responseId,
        `${field}\t${r.channel}\t${String(r.respondedAt)}\t${String(r.receivedAt)}\t${r.surveyId}`,
        indexAt,
      );
    }
    args.push(buckets.length);
    for (const b of buckets) args.push(b.key, b.expireAt);
    const keys = this.#segmentKeys.filter((k) => Object.hasOwn(r.segment, k));
    args.push(keys.length);
    for (const k of keys) {
      args.push(
        encodeURIComponent(k),
        this.#admittedKey(r.surveyId, k),
        encodeURIComponent(r.segment[k] ?? ''),
      );
    }
  }

  /** How many erasures have begun, ever (a counter only compared with itself). */
  async erasureCount(): Promise<number> {
    return Number((await this.#redis.get(this.#erasuresKey)) ?? 0);
  }

  /** The instant up to which each respondent is erased, or null when they are not. */
  async erasedUpTo(respondentIds: readonly string[]): Promise<Map<string, number | null>> {
    if (respondentIds.length === 0) return new Map();
    const values = await this.#redis.mget(...respondentIds.map((id) => this.#erasedKey(id)));
    return new Map(respondentIds.map((id, i) => [id, values[i] ? Number(values[i]) : null]));
  }

  /**
   * Erases a respondent from the live windows: from now on no record of theirs received up to the
   * returned cut counts or is stored again, and the ones counted already are taken out of every
   * bucket a window can still read. Safe to repeat.
   */
  async erase(respondentId: string, nowMs: number): Promise<{ cut: number; removed: number }> {
    const index = this.#indexKey(respondentId);
    const [cut, entries] = await this.#commands.npsBeginErasure(
      this.#erasedKey(respondentId),
      index,
      this.#erasuresKey,
      nowMs,
    );
    const args: (string | number)[] = [entries.length / 2];
    for (let e = 0; e + 1 < entries.length; e += 2) {
      // The slices the batch script counted the record in (key=value as mapped) follow its fields.
      const [field = '', channel, respondedAt, , surveyId = '', ...slices] = (
        entries[e + 1] ?? ''
      ).split('\t');
      const buckets = this.#bucketsOf(surveyId, channel as Channel, Number(respondedAt), nowMs);
      const keys = buckets.flatMap((b) => [b.key, ...slices.map((tag) => `${b.key}:${tag}`)]);
      args.push(entries[e] ?? '', field, keys.length, ...keys);
    }
    const removed = await this.#commands.npsFinishErasure(index, args);
    return { cut: Number(cut), removed };
  }

  /** Restores erasure marks from ClickHouse's list, after Redis lost its data. */
  async restoreErasures(marks: readonly { tag: string; cut: number }[]): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const { tag, cut } of marks) pipeline.set(`${this.#prefix}erased:${tag}`, String(cut));
    await pipeline.exec();
  }

  /**
   * The bucket a segment value is counted in live: the value itself when it is tracked, or when
   * fewer than the maximum are (then a value not tracked has simply no responses yet), else
   * `other`.
   */
  async segmentBucket(surveyId: string, key: string, value: string): Promise<string> {
    if (value === OTHER_SEGMENT) return value;
    const admitted = this.#admittedKey(surveyId, key);
    const [[, member], [, size]] = ((await this.#redis
      .multi()
      .sismember(admitted, encodeURIComponent(value))
      .scard(admitted)
      .exec()) ?? []) as [[unknown, number], [unknown, number]];
    return member === 1 || size < this.#segmentMaxValues ? value : OTHER_SEGMENT;
  }

  /**
   * One window's counts, in one round trip of at most ~200 bucket reads; of one segment slice
   * when `segment` names a key and the bucket its value counts in (see segmentBucket).
   */
  async read(
    surveyId: string,
    channel: Channel | null,
    window: WindowName,
    nowMs: number,
    segment?: { readonly key: string; readonly bucket: string },
  ): Promise<Tally & { from: number; to: number }> {
    const { from, to } = windowRange(window, nowMs);
    const slice =
      segment === undefined
        ? ''
        : `:${encodeURIComponent(segment.key)}=${encodeURIComponent(segment.bucket)}`;
    const pipeline = this.#redis.pipeline();
    for (const bucket of coveringBuckets(from, to)) {
      pipeline.hmget(
        this.#bucketKey(surveyId, channel, bucket.level, bucket.index) + slice,
        'p',
        's',
        'd',
      );
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
