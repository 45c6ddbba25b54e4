import type { Kafka, Producer } from 'kafkajs';
import { encodeFact } from '../domain/invitation.js';
import type { InvitationFact } from '../domain/invitation.js';
import { NpsError } from '../errors.js';

/**
 * Hands invitation facts to Kafka as the response publisher does responses: idempotent producer,
 * acks from all in-sync replicas, keyed by invitationId (both facts of an invitation on one
 * partition, in order). An invitation is answered 201 only after Kafka acknowledged it, so one that
 * was accepted is never lost; the ingest role needs no ClickHouse for it.
 */
export class InvitationPublisher {
  readonly #producer: Producer;
  readonly #topic: string;

  constructor(kafka: Kafka, topic: string) {
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    this.#topic = topic;
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
  }

  async publish(facts: readonly InvitationFact[]): Promise<void> {
    if (facts.length === 0) return;
    try {
      await this.#producer.send({
        topic: this.#topic,
        acks: -1,
        timeout: 5000,
        messages: facts.map((f) => ({ key: f.invitationId, value: encodeFact(f) })),
      });
    } catch (cause) {
      throw new NpsError('SERVICE_UNAVAILABLE', 'Kafka unavailable', { cause, retriable: true });
    }
  }

  async close(): Promise<void> {
    await this.#producer.disconnect();
  }
}
