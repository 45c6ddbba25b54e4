import type { Kafka, Producer } from 'kafkajs';
import type { NpsResponse } from '../domain/response.js';
import { NpsError } from '../errors.js';
import type { ResponseCodec } from '../kafka/response-codec.js';

/**
 * Hands normalized responses to Kafka: idempotent producer, acks from all in-sync replicas, keyed
 * by responseId so every copy of a response lands on the same partition (the processor's dedupe
 * relies on it). A request is answered 202 only after Kafka acknowledged all its records.
 */
export class Publisher {
  readonly #producer: Producer;
  readonly #codec: ResponseCodec;
  readonly #topic: string;

  constructor(kafka: Kafka, codec: ResponseCodec, topic: string) {
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // A request waits a few seconds at most; past that the caller gets 503 and retries.
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    this.#codec = codec;
    this.#topic = topic;
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
  }

  async publish(responses: readonly NpsResponse[]): Promise<void> {
    let messages;
    try {
      messages = await Promise.all(
        responses.map(async (r) => ({ key: r.responseId, value: await this.#codec.encode(r) })),
      );
    } catch (cause) {
      throw new NpsError('SERVICE_UNAVAILABLE', 'schema registry unavailable', {
        cause,
        retriable: true,
      });
    }
    try {
      await this.#producer.send({ topic: this.#topic, acks: -1, timeout: 5000, messages });
    } catch (cause) {
      throw new NpsError('SERVICE_UNAVAILABLE', 'Kafka unavailable', { cause, retriable: true });
    }
  }

  async close(): Promise<void> {
    await this.#producer.disconnect();
  }
}
