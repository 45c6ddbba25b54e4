import type { Kafka, Message, Producer } from 'kafkajs';
import type { EventSink, NpsEvent } from './types.js';

/**
 * The events topic as an EventSink: JSON values keyed by surveyId (a survey's events stay in
 * order on one partition), the event id in a header, idempotent producer, acknowledged by every
 * in-sync replica. A publish that fails throws, so the caller does not commit what it derived.
 */
const MAX_REQUEST_BYTES = 256 * 1024;

export class KafkaEventSink implements EventSink {
  readonly #producer: Producer;
  readonly #topic: string;
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
    if (events.length === 0) return;
    // A failed connect is forgotten, so that the next publish tries again.
    await (this.#connected ??= this.#producer.connect().catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    }));
    // In requests of a bounded size: a replayed batch of responses becomes more bytes of events
    // than the broker takes in one record batch (message.max.bytes, 1 MB by default).
    let chunk: Message[] = [];
    let bytes = 0;
    for (const e of events) {
      const value = JSON.stringify(e);
      if (chunk.length > 0 && bytes + value.length > MAX_REQUEST_BYTES) {
        await this.#send(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push({
        key: e.surveyId,
        value,
        headers: { 'nps-event-id': e.id, 'nps-event-type': e.type },
      });
      bytes += value.length;
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
