import type { Kafka, Producer } from 'kafkajs';
import type { EventSink, NpsEvent } from './types.js';

/**
 * The events topic as an EventSink: JSON values keyed by surveyId (a survey's events stay in
 * order on one partition), the event id in a header, idempotent producer, acknowledged by every
 * in-sync replica. A publish that fails throws, so the caller does not commit what it derived.
 */
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
    await (this.#connected ??= this.#producer.connect());
    await this.#producer.send({
      topic: this.#topic,
      acks: -1,
      messages: events.map((e) => ({
        key: e.surveyId,
        value: JSON.stringify(e),
        headers: { 'nps-event-id': e.id, 'nps-event-type': e.type },
      })),
    });
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#producer.disconnect();
  }
}
