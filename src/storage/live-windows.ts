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
import { FreshReads } from '../fresh-reads.js';
import { sumBuckets } from './live-read.js';
import { luaScript } from './lua-script.js';
import { RedisKeys, segmentSlice } from './redis-keys.js';

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
 * script (lua/live-apply-batch.lua) declares the same values and is refused at load otherwise.
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

// The scripts, with their KEYS, ARGV and replies, are in src/storage/lua/live-*.lua.
const APPLY_BATCH = luaScript('live-apply-batch', {
  FIRST_COPY,
  REPEAT,
  ERASED,
  FIRST_COPY_REPLAYED,
  OTHER_SEGMENT,
});
const BEGIN_ERASURE = luaScript('live-begin-erasure');
const FINISH_ERASURE = luaScript('live-finish-erasure');

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
  readonly #keys: RedisKeys;
  readonly #seenTtlSeconds: number;
  readonly #erasureSecret: string | undefined;
  readonly #segmentKeys: readonly string[];
  readonly #segmentMaxValues: number;
  readonly #reads = new FreshReads<[number, number, number]>();

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
    this.#keys = new RedisKeys(options.prefix);
    this.#seenTtlSeconds = options.dedupeDays * 86_400;
    this.#erasureSecret = options.erasureSecret;
    // Sorted, so a record's slices are listed (and indexed) the same way by every process.
    this.#segmentKeys = [...new Set(options.segmentKeys ?? [])].sort();
    this.#segmentMaxValues = options.segmentMaxValues ?? DEFAULT_SEGMENT_MAX_VALUES;
    redis.defineCommand('npsApplyBatch', { numberOfKeys: 2, lua: APPLY_BATCH });
    redis.defineCommand('npsBeginErasure', { numberOfKeys: 3, lua: BEGIN_ERASURE });
    redis.defineCommand('npsFinishErasure', { numberOfKeys: 1, lua: FINISH_ERASURE });
  }

  /** The buckets (all-channel and per-channel) a response counts in; none once too old. */
  #bucketsOf(surveyId: string, channel: Channel, respondedAt: number, nowMs: number): BucketRef[] {
    if (respondedAt < nowMs - (LONGEST_WINDOW_MINUTES + 1) * 60_000) return [];
    const refs: BucketRef[] = [];
    for (const bucket of bucketsOf(respondedAt)) {
      const expireAt = Math.ceil(bucketExpiry(bucket) / 1000);
      refs.push(
        { key: this.#keys.bucket(surveyId, null, bucket.level, bucket.index), expireAt },
        { key: this.#keys.bucket(surveyId, channel, bucket.level, bucket.index), expireAt },
      );
    }
    return refs;
  }

  #erasedKey(respondentId: string): string {
    return this.#keys.erased(erasureTag(this.#erasureSecret, respondentId));
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
    const fence = this.#keys.fence(topic, partition);
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
      const out = await this.#commands.npsApplyBatch(fence, this.#keys.erasures, args);
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
    args.push(this.#keys.seen(r.responseId), `${partition}:${offset}`, offset, field);
    if (r.respondentId === null) args.push('', r.receivedAt, '', '', '', 0);
    else {
      let indexAt = 0;
      for (const b of buckets) indexAt = Math.max(indexAt, b.expireAt);
      args.push(
        this.#erasedKey(r.respondentId),
        r.receivedAt,
        this.#keys.respondentIndex(r.respondentId),
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
        this.#keys.segmentValues(r.surveyId, k),
        encodeURIComponent(r.segment[k] ?? ''),
      );
    }
  }

  /** How many erasures have begun, ever (a counter only compared with itself). */
  async erasureCount(): Promise<number> {
    return Number((await this.#redis.get(this.#keys.erasures)) ?? 0);
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
    const index = this.#keys.respondentIndex(respondentId);
    const [cut, entries] = await this.#commands.npsBeginErasure(
      this.#erasedKey(respondentId),
      index,
      this.#keys.erasures,
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
    for (const { tag, cut } of marks) pipeline.set(this.#keys.erased(tag), String(cut));
    await pipeline.exec();
  }

  /**
   * The bucket a segment value is counted in live: the value itself when it is tracked, or when
   * fewer than the maximum are (then a value not tracked has simply no responses yet), else
   * `other`.
   */
  async segmentBucket(surveyId: string, key: string, value: string): Promise<string> {
    if (value === OTHER_SEGMENT) return value;
    const admitted = this.#keys.segmentValues(surveyId, key);
    const [[, member], [, size]] = ((await this.#redis
      .multi()
      .sismember(admitted, encodeURIComponent(value))
      .scard(admitted)
      .exec()) ?? []) as [[unknown, number], [unknown, number]];
    return member === 1 || size < this.#segmentMaxValues ? value : OTHER_SEGMENT;
  }

  /**
   * One window's counts, summed in Redis by one script call over at most ~200 buckets; of one
   * segment slice when `segment` names a key and the bucket its value counts in (see
   * segmentBucket). Concurrent reads of one window share a script call, never one sent before
   * they were made (FreshReads).
   */
  async read(
    surveyId: string,
    channel: Channel | null,
    window: WindowName,
    nowMs: number,
    segment?: { readonly key: string; readonly bucket: string },
  ): Promise<Tally & { from: number; to: number }> {
    const { from, to } = windowRange(window, nowMs);
    const slice = segment === undefined ? '' : segmentSlice(segment.key, segment.bucket);
    const [promoters, passives, detractors] = await this.#reads.read(
      `${surveyId}\u0000${channel ?? '*'}\u0000${slice}\u0000${String(from)}`,
      () =>
        sumBuckets(
          this.#redis,
          coveringBuckets(from, to).map(
            (bucket) => this.#keys.bucket(surveyId, channel, bucket.level, bucket.index) + slice,
          ),
        ),
    );
    return { promoters, passives, detractors, from, to };
  }
}
