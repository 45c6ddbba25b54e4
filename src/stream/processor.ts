import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.js';
import { GroupCommit } from '../group-commit.js';
import type { ResponseCodec } from '../kafka/response-codec.js';
import { PoisonRecordError } from '../kafka/response-codec.js';
import { ROLLUPS, fenced, monthOf } from '../storage/history.js';
import type { Fences, History, MonthFences, StoredResponse } from '../storage/history.js';
import type { CaseStore } from '../storage/cases.js';
import { ERASED, FIRST_COPY, isFirstCopy } from '../storage/live-windows.js';
import type { LiveRecord, LiveWindows } from '../storage/live-windows.js';
import type { ShiftDetectors } from '../storage/shift-detectors.js';
import type { ShiftStore } from '../storage/shifts.js';
import type { ShiftEvent } from '../domain/shift-event.js';
import type { NpsResponse } from '../domain/response.js';
import type { ShiftOptions } from '../domain/shift.js';
import type { Metrics } from '../metrics.js';
import type { Tagger } from '../themes/tagger.js';
import { DEFAULT_CASE_RULE } from '../domain/case-rule.js';
import type { CaseRule } from '../domain/case-rule.js';
import { responseEvents, shiftEvent } from '../events/response-events.js';
import type { EventSink } from '../events/types.js';

export interface ProcessorDeps {
  readonly kafka: Kafka;
  readonly codec: ResponseCodec;
  readonly live: LiveWindows;
  readonly history: History;
  readonly metrics: Metrics;
  /** Tags each stored comment with its language and themes. */
  readonly tagger: Tagger;
  /** The NPS shift detectors' state (Redis) and where their shifts are kept (ClickHouse). */
  readonly shifts: { readonly detectors: ShiftDetectors; readonly store: ShiftStore };
  /** Opens a follow-up case for each first copy the case rule matches; none when undefined. */
  readonly cases?: Pick<CaseStore, 'open' | 'erase'>;
  /** Tuning of the shift detectors. Default: DEFAULT_SHIFT_OPTIONS. */
  readonly shiftOptions?: ShiftOptions;
  /**
   * Marks respondents who answered as contacted, for the recontact window (invitation-marks.ts);
   * records counted now only, so a replay marks nobody again. None: not marked.
   */
  readonly recontact?: {
    answered(answers: { respondentId: string; at: number }[], now: number): Promise<void>;
  };
  /** Where the events derived from counted responses and shifts go (the events topic). */
  readonly events: EventSink;
  /** Which responses open a case, named by their events' caseId. Default: DEFAULT_CASE_RULE. */
  readonly caseRule?: CaseRule;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
  /** The consumer crashed and kafkajs will not restart it: nothing more is processed. */
  readonly onCrash?: (error: unknown) => void;
}

/**
 * How the processor fetches (the bench's raw-consume ceiling uses the same). Every partition of
 * the default 6 is handled at once, so one partition's Redis script overlaps another's ClickHouse
 * insert; 4 MiB per partition (~25,000 records) spreads each batch's fixed costs (fences, the
 * inserts' round trips) over more records.
 */
export const FETCH = {
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxWaitTimeInMs: 5000,
  concurrency: 6,
} as const;

export interface ProcessorHandle {
  /** Sinks failing right now (named as /readyz names dependencies). */
  down(): string[];
  close(): Promise<void>;
}

/**
 * The stream processor: one member of the consumer group. Per partition batch it decodes every
 * record, sends poison ones to the dead-letter topic, applies the rest to the live windows in one
 * Redis round trip, feeds the records counted now to the shift detectors, writes the first copies
 * to ClickHouse in one insert and the shifts found in another, and only then lets the offset be
 * committed. A crash anywhere before the commit replays the batch, which both sinks absorb (see
 * LiveWindows and History). The detectors see only records counted now (FIRST_COPY), never a
 * replayed one, so no answer is observed twice; a crash between the batch script and the
 * detectors' update loses those answers' observations instead, which only delays a detection a
 * little (the statistics need no particular answer). Shifts are written to Redis with the states
 * that found them (pending), then to ClickHouse, then forgotten in Redis: pending shifts a crash
 * left behind are written at the next start, and a shift written twice folds by its id.
 */
export async function startProcessor(deps: ProcessorDeps): Promise<ProcessorHandle> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);
  const consumer: Consumer = deps.kafka.consumer({
    groupId: deps.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: FETCH.maxBytesPerPartition,
    maxWaitTimeInMs: FETCH.maxWaitTimeInMs,
  });
  const dlq: Producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), dlq.connect()]);
  await consumer.subscribe({ topic: deps.topic, fromBeginning: true });
  // Shifts a crash left between Redis and ClickHouse go in before anything new is detected.
  await flushShifts(deps, await deps.shifts.detectors.pending());
  // And again now and then, for a crashed processor that is not started again: what a live one
  // has pending is written twice at worst, which its id folds (and its event id repeats).
  const orphans = setInterval(() => {
    void deps.shifts.detectors
      .pending()
      .then((pending) => flushShifts(deps, pending))
      .catch((error: unknown) => {
        log(`pending shifts not written yet: ${describeError(error)}`);
      });
  }, ORPHAN_SHIFTS_EVERY_MS);
  orphans.unref();
  const health = new SinkHealth();
  // Per partition, the ClickHouse fences (History.fences), read again after every rebalance.
  const partitionFences = new Map<number, Fences>();
  consumer.on(consumer.events.GROUP_JOIN, () => {
    partitionFences.clear();
  });
  deps.metrics.sinkUp.set(1);
  // The embedded engine runs one statement at a time, and an insert costs ~30 ms whatever its
  // size up to thousands of rows: the partitions' batches handled at once share their inserts.
  // One insert still lands whole or not at all per month part, so the fences stay exact for each
  // partition it carries; a failed insert fails every batch in it, and each retries on its own.
  const GATHER = { gatherMs: GATHER_MS };
  const historyInserts = new GroupCommit<readonly StoredResponse[]>(
    (groups) => deps.history.insert(groups.flat(), deps.topic),
    GATHER,
  );
  const caseOpens = new GroupCommit<readonly NpsResponse[]>(
    (groups) => (deps.cases ? deps.cases.open(groups.flat()) : Promise.resolve()),
    GATHER,
  );
  const sink = {
    health,
    metrics: deps.metrics,
    pause: () => {
      consumer.pause([{ topic: deps.topic }]);
    },
    resume: () => {
      consumer.resume([{ topic: deps.topic }]);
    },
  };

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    if (batch.messages.length === 0) return;
    const began = now();
    const records: LiveRecord[] = [];
    const poison: { value: Buffer | null; key: Buffer | null; offset: string; reason: string }[] =
      [];
    // Decoding only awaits the registry for a schema id not seen before; all at once, not in turn.
    const decoded = await Promise.allSettled(batch.messages.map((m) => deps.codec.decode(m.value)));
    decoded.forEach((result, i) => {
      const message = batch.messages[i];
      if (!message) return;
      if (result.status === 'fulfilled') {
        records.push({
          response: result.value,
          partition: batch.partition,
          offset: message.offset,
        });
      } else if (result.reason instanceof PoisonRecordError) {
        poison.push({
          value: message.value,
          key: message.key,
          offset: message.offset,
          reason: result.reason.message,
        });
      } else {
        throw result.reason;
      }
    });
    if (poison.length > 0) {
      await dlq.send({
        topic: deps.deadLetterTopic,
        acks: -1,
        messages: poison.map((p) => ({
          key: p.key,
          value: p.value,
          headers: {
            'nps-dlq-reason': p.reason,
            'nps-source-topic': batch.topic,
            'nps-source-partition': String(batch.partition),
            'nps-source-offset': p.offset,
          },
        })),
      });
      deps.metrics.deadLettered.inc(poison.length);
      log(`dead-lettered ${poison.length} record(s) from ${batch.topic}/${batch.partition}`);
    }
    if (!payload.isRunning() || payload.isStale()) return;

    const { outcomes, erasures } = await deps.live.applyPartitionBatch(
      batch.topic,
      batch.partition,
      records,
      now(),
    );
    const rows: StoredResponse[] = [];
    records.forEach((record, i) => {
      if (isFirstCopy(outcomes[i])) rows.push(withThemes(record, deps.tagger));
    });
    const erased = records.filter((_, i) => outcomes[i] === ERASED);
    // Only what was counted now: a replayed first copy was observed when it was counted.
    // The detectors and the recontact marks are independent stores: one round trip for both.
    const observed = deps.shifts.detectors.observe(
      records
        .filter((_, i) => outcomes[i] === FIRST_COPY)
        .map(({ response: r }) => ({
          surveyId: r.surveyId,
          channel: r.channel,
          score: r.score,
          atMs: r.receivedAt,
        })),
      deps.shiftOptions,
    );
    const answered = deps.recontact?.answered(
      records.flatMap(({ response: r }, i) =>
        isFirstCopy(outcomes[i]) && r.respondentId !== null
          ? [{ respondentId: r.respondentId, at: r.respondedAt }]
          : [],
      ),
      now(),
    );
    const [found] = await Promise.all([observed, answered]);
    // Every first copy, replayed ones too: a crash between the batch script and this publish
    // must not lose events. A repeat (a retried write, a replay) carries the same event ids,
    // which the deliverer folds. Published once per batch, awaited before the commit.
    let publishing: Promise<void> | undefined;
    const publishEvents = () =>
      (publishing ??= deps.events.publish(
        rows.flatMap((r) => responseEvents(r.response, deps.caseRule ?? DEFAULT_CASE_RULE)),
      ));
    const write = async (): Promise<boolean> => {
      // A batch that went stale in a rebalance belongs to another processor now, which inserts
      // it itself: inserting it here too would store it twice.
      if (!payload.isRunning() || payload.isStale()) return false;
      const fences =
        partitionFences.get(batch.partition) ??
        (await deps.history.fences(batch.topic, batch.partition));
      // Forgotten until this write succeeds: a failed insert may have landed all the same.
      partitionFences.delete(batch.partition);
      // What a replay brings again is stored already: only rows above their month's fence go in.
      const fresh = rows.filter((r) => !fenced(fences.responses, month(r), r.offset));
      // Cases before history, for every first copy (a replayed one too): a crash between the two
      // replays the record, and its case, written again, folds by caseId.
      if (rows.length > 0) await caseOpens.add(rows.map((r) => r.response));
      // The events go out while history is written: a detractor's webhook does not wait for
      // ClickHouse, only for its case (the event names it, and a receiver may look it up).
      void publishEvents().catch(() => undefined);
      // Still ours? A heartbeat tells: a batch that went stale meanwhile is left to its new owner.
      if (!(await stillOurs(payload))) return false;
      if (fresh.length > 0) await historyInserts.add(fresh);
      const stored = (r: StoredResponse) => fenced(fences.responses, month(r), r.offset);
      // A crash can cut an insert off between its base rows and the rollups: each rollup gets the
      // stored rows above its own fence. An erased response counts there too if it was stored
      // before its erasure (it has a correction), since that correction subtracts it as soon as
      // the rollup's fence passes it.
      const erasedStored = await deps.history.erasedResponses(
        erased
          .filter((r) => ROLLUPS.some((k) => !fenced(fences[k], month(r), r.offset)))
          .map(({ response }) => response),
      );
      const replayable = [
        ...rows.filter(stored),
        ...erased.filter(({ response: r }) =>
          erasedStored.has(`${r.surveyId}\u0000${r.responseId}`),
        ),
      ];
      if (!(await stillOurs(payload))) return false;
      for (const rollup of ROLLUPS) {
        await deps.history.replayRollup(
          rollup,
          replayable.filter((r) => !fenced(fences[rollup], month(r), r.offset)),
          batch.topic,
        );
      }
      partitionFences.set(batch.partition, raised(fences, [...fresh, ...replayable]));
      // Every first copy, not only the fresh: its case was written again above.
      await purgeErased(deps, rows, erased, erasures);
      // Only this batch's: what a crashed processor left pending is written when one starts, so
      // that processors running side by side do not write each other's shifts twice.
      await flushShifts(deps, found);
      return true;
    };
    const wrote = await writeUntilDone(write, payload, sink, log);
    // Awaited even when the batch went stale: its rejection must not go unhandled.
    await publishing?.catch(() => undefined);
    if (!wrote) return;
    await (publishing ?? publishEvents());

    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary();
    await heartbeat();
    deps.metrics.batchSize.observe(batch.messages.length);
    deps.metrics.sinkLatency.observe((now() - began) / 1000);
    deps.metrics.processed.inc(records.length);
    const lag = Number(batch.highWatermark) - Number(batch.lastOffset()) - 1;
    deps.metrics.consumerLag.set({ partition: String(batch.partition) }, Math.max(0, lag));
  }

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) deps.onCrash?.(payload.error);
  });
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommitInterval: 1000,
    partitionsConsumedConcurrently: FETCH.concurrency,
    eachBatch: handleBatch,
  });

  let closing: Promise<void> | undefined;
  return {
    down: () => health.down(),
    close: () =>
      (closing ??= (async () => {
        clearInterval(orphans);
        await consumer.disconnect().catch(() => undefined);
        await dlq.disconnect().catch(() => undefined);
      })()),
  };
}

/** Whether the batch still belongs to this member: heartbeats, then asks. */
async function stillOurs(payload: EachBatchPayload): Promise<boolean> {
  try {
    await payload.heartbeat();
  } catch {
    return false; // a rebalance: the partition may be another member's now
  }
  return payload.isRunning() && !payload.isStale();
}

function month(row: StoredResponse): number {
  return monthOf(row.response.respondedAt);
}

/** The fences once `rows` are stored in the base table and counted in every rollup. */
function raised(fences: Fences, rows: readonly StoredResponse[]): Fences {
  const raise = (from: MonthFences): MonthFences => {
    const next = new Map(from);
    for (const row of rows) {
      const m = month(row);
      const offset = BigInt(row.offset);
      if ((next.get(m) ?? -1n) < offset) next.set(m, offset);
    }
    return next;
  };
  return {
    responses: raise(fences.responses),
    hourly: raise(fences.hourly),
    daily: raise(fences.daily),
  };
}

/** Writes pending shifts to ClickHouse, then forgets them in Redis. */
async function flushShifts(deps: ProcessorDeps, pending: readonly ShiftEvent[]): Promise<void> {
  if (pending.length === 0) return;
  // Published before they are forgotten, so a shift a crash left pending is published at start.
  await deps.events.publish(pending.map(shiftEvent));
  await deps.shifts.store.insert(pending);
  await deps.shifts.detectors.clearPending(pending.map((s) => s.shiftId));
}

/**
 * Tags a first copy's comment, deterministically, so a replay stores the same tags. A record that
 * arrives tagged by the current taxonomy keeps its tags; one without a comment has none.
 */
function withThemes(record: StoredResponse, tagger: Tagger): StoredResponse {
  const { response } = record;
  if (response.comment === null) return record;
  if (response.themes !== null && response.taxonomyVersion === tagger.version) return record;
  const { language, themes } = tagger.tag(response.comment, response.locale);
  return {
    ...record,
    response: { ...response, language, themes, taxonomyVersion: tagger.version },
  };
}

/**
 * Makes sure ClickHouse holds nothing of a respondent erased while this batch was on its way. Two
 * cases: the batch carried records of an erased respondent (a replay, say after a crash between
 * an insert and its commit: deleting again is what keeps them out), or an erasure began after the
 * batch script ran and before our insert landed, which its own delete may have missed (the
 * erasure counter moved). Deleting is idempotent, so doing it twice costs only time.
 */
async function purgeErased(
  deps: ProcessorDeps,
  inserted: readonly StoredResponse[],
  erased: readonly StoredResponse[],
  erasuresBefore: number,
): Promise<void> {
  const candidates = new Set<string>();
  for (const { response } of erased)
    if (response.respondentId) candidates.add(response.respondentId);
  const identified = inserted.filter(({ response }) => response.respondentId !== null);
  if (identified.length > 0 && (await deps.live.erasureCount()) !== erasuresBefore) {
    for (const { response } of identified)
      if (response.respondentId) candidates.add(response.respondentId);
  }
  if (candidates.size === 0) return;
  for (const [respondentId, cut] of await deps.live.erasedUpTo([...candidates])) {
    if (cut === null) continue;
    await deps.history.purge(respondentId, cut);
    await deps.cases?.erase(respondentId, cut);
  }
}

/** Whether the history sink is failing now, for /readyz. */
class SinkHealth {
  #failing = false;

  /** Marks it failing; true when it was not before. */
  failing(): boolean {
    const first = !this.#failing;
    this.#failing = true;
    return first;
  }

  /** Marks it working; true when it was failing before. */
  recovered(): boolean {
    const was = this.#failing;
    this.#failing = false;
    return was;
  }

  down(): string[] {
    return this.#failing ? ['clickhouse'] : [];
  }
}

const MAX_BACKOFF_MS = 15_000;
/**
 * How long the first of the batches handled at once waits for the others' rows before inserting:
 * they reach the insert a few ms apart, and an insert costs ~30 ms. At 1,000 responses/s
 * (`npm run bench -- --rate 1000`, 3 runs of 20 s) freshness was p50 85 ms, p99 216 ms with 5 ms
 * against p50 111 ms, p99 245 ms with none.
 */
const GATHER_MS = 5;
const ORPHAN_SHIFTS_EVERY_MS = 60_000;
const HEARTBEAT_EVERY_MS = 3000;

/**
 * Writes to the history sink until it succeeds, however long ClickHouse is away: backoff doubling
 * to 15 s with jitter, heartbeating meanwhile so the group keeps our partitions, and the topic
 * paused so nothing more is fetched. Gives up only when the consumer stops or the batch went stale
 * in a rebalance; the batch is then left uncommitted, to be replayed. Returns whether it wrote.
 */
async function writeUntilDone(
  write: () => Promise<boolean>,
  payload: EachBatchPayload,
  sink: { health: SinkHealth; pause(): void; resume(): void; metrics: Metrics },
  log: (message: string) => void,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (!(await write())) return false;
      if (sink.health.recovered()) {
        log(`history write succeeded after ${attempt} attempt(s); resuming`);
        sink.metrics.sinkUp.set(1);
        sink.resume();
      }
      return true;
    } catch (error) {
      if (sink.health.failing()) {
        log(`history write failed, pausing consumption and retrying: ${describeError(error)}`);
        sink.metrics.sinkUp.set(0);
        sink.pause();
      } else if (attempt % 10 === 0) {
        log(`history write still failing (attempt ${attempt}): ${describeError(error)}`);
      }
      sink.metrics.sinkRetries.inc();
      const backoff =
        Math.min(250 * 2 ** (attempt - 1), MAX_BACKOFF_MS) * (0.5 + Math.random() / 2);
      const until = Date.now() + backoff;
      while (Date.now() < until) {
        if (!payload.isRunning() || payload.isStale()) return false;
        await sleep(Math.min(HEARTBEAT_EVERY_MS, until - Date.now()));
        try {
          await payload.heartbeat();
        } catch {
          // A rebalance: the partition may be someone else's now. Leave the batch uncommitted.
          return false;
        }
      }
    }
  }
}
