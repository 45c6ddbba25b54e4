import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, NpsError } from '../errors.js';
import type { ResponseCodec } from '../kafka/response-codec.js';
import { PoisonRecordError } from '../kafka/response-codec.js';
import type { History, StoredResponse } from '../storage/history.js';
import type { LiveRecord, LiveWindows } from '../storage/live-windows.js';
import type { Metrics } from '../api/metrics.js';

export interface ProcessorDeps {
  readonly kafka: Kafka;
  readonly codec: ResponseCodec;
  readonly live: LiveWindows;
  readonly history: History;
  readonly metrics: Metrics;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
}

export interface ProcessorHandle {
  close(): Promise<void>;
}

/**
 * The stream processor: one member of the consumer group. Per partition batch it decodes every
 * record, sends poison ones to the dead-letter topic, applies the rest to the live windows in one
 * Redis round trip, writes the first copies to ClickHouse in one insert, and only then lets the
 * offset be committed. A crash anywhere before the commit replays the batch, which both sinks
 * absorb (see LiveWindows and History).
 */
export async function startProcessor(deps: ProcessorDeps): Promise<ProcessorHandle> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);
  const consumer: Consumer = deps.kafka.consumer({
    groupId: deps.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: 1024 * 1024,
  });
  const dlq: Producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), dlq.connect()]);
  await consumer.subscribe({ topic: deps.topic, fromBeginning: true });

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

    const firsts = await deps.live.applyPartitionBatch(
      batch.topic,
      batch.partition,
      records,
      now(),
    );
    const rows: StoredResponse[] = records.filter((_, i) => firsts[i]);
    await withRetry(() => deps.history.insert(rows), heartbeat, log);

    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary();
    await heartbeat();
    deps.metrics.batchSize.observe(batch.messages.length);
    deps.metrics.sinkLatency.observe((now() - began) / 1000);
    deps.metrics.processed.inc(records.length);
    const lag = Number(batch.highWatermark) - Number(batch.lastOffset()) - 1;
    deps.metrics.consumerLag.set({ partition: String(batch.partition) }, Math.max(0, lag));
  }

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommitInterval: 1000,
    partitionsConsumedConcurrently: 3,
    eachBatch: handleBatch,
  });

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        await consumer.disconnect().catch(() => undefined);
        await dlq.disconnect().catch(() => undefined);
      })()),
  };
}

/** Retries a sink write with backoff, heartbeating so the group does not evict us meanwhile. */
async function withRetry(
  write: () => Promise<void>,
  heartbeat: () => Promise<void>,
  log: (message: string) => void,
  attempts = 6,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (attempt >= attempts) {
        throw new NpsError(
          'SERVICE_UNAVAILABLE',
          `history write failed ${attempts} times: ${describeError(error)}`,
          {
            cause: error,
            retriable: true,
          },
        );
      }
      log(`history write failed (attempt ${attempt}), retrying: ${describeError(error)}`);
      await sleep(Math.min(200 * 2 ** attempt, 5000));
      await heartbeat().catch(() => undefined);
    }
  }
}
