import type { Kafka, Message, Producer } from 'kafkajs';
import { GroupCommit } from '../group-commit.js';
import type { EventSink, NpsEvent } from './types.js';

/**
 * The events topic as an EventSink: JSON values keyed by surveyId (a survey's events stay in
 * order on one partition), the event id in a header, idempotent producer, acknowledged by every
 * in-sync replica. A publish that fails throws, so the caller does not commit what it derived.
 * Publishes that arrive while a produce request is on its way go out together in the next one
 * (the processor's partitions publish at once), in the order they arrived. Requests stay at
 * 256 KiB: at 768 KiB ingest's batches of 100 fell from ~15,000 to ~10,000 responses/s in the
 * same bench (`npm run bench -- --skip ceilings,freshness,reads,sse`, 2 runs each, drain
 * unchanged; why the broker serves ingest slower beside big requests is not established).
 */
const MAX_REQUEST_BYTES = 256 * 1024;

export class KafkaEventSink implements EventSink {
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #requests = new GroupCommit<readonly NpsEvent[]>((groups) =>
    this.#produce(groups.flat()),
  );
  #connected: Promise<void> | undefined;

  constructor(kafka: Kafka, topic: string) {
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    this.#topic = topic;
  }

  async publish(events: readonly NpsEvent[]): Promise<void> {
    if (events.length > 0) await this.#requests.add(events);
  }

  async #produce(events: readonly NpsEvent[]): Promise<void> {
    // A failed connect is forgotten, so that the next publish tries again.
    await (this.#connected ??= this.#producer.connect().catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    }));
    // In requests of a bounded size: a replayed batch of responses becomes more bytes of events
    // than the broker takes in one record batch (message.max.bytes, 1 MB by default), which one
    // request's messages could all be for (one partition).
    let chunk: Message[] = [];
    let bytes = 0;
    for (const e of events) {
      const value = JSON.stringify(e);
      // Bytes, not characters (a Danish comment is more bytes than letters), headers and key too.
      const size = Buffer.byteLength(value) + Buffer.byteLength(e.surveyId) + e.id.length + 64;
      if (chunk.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
        await this.#send(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push({
        key: e.surveyId,
        value,
        headers: { 'nps-event-id': e.id, 'nps-event-type': e.type },
      });
      bytes += size;
    }
    await this.#send(chunk);
  }

  async #send(messages: Message[]): Promise<void> {
    await this.#producer.send({ topic: this.#topic, acks: -1, messages });
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#producer.disconnect();
  }
}
