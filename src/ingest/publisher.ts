import type { Kafka, Message, Producer } from 'kafkajs';
import type { NpsResponse } from '../domain/response.js';
import { NpsError } from '../errors.js';
import type { ResponseCodec } from '../kafka/response-codec.js';

/** A produce request carries at most this much (Kafka's default limit is 1 MiB per request). */
const MAX_GROUP_BYTES = 768 * 1024;

interface Waiting {
  readonly messages: readonly Message[];
  readonly bytes: number;
  readonly done: (error?: NpsError) => void;
}

/**
 * Hands normalized responses to Kafka: idempotent producer, acks from all in-sync replicas, keyed
 * by responseId so every copy of a response lands on the same partition (the processor's dedupe
 * relies on it). A request is answered 202 only after Kafka acknowledged all its records.
 *
 * Group commit: while one produce request is on its way, the records of every request that
 * arrives meanwhile wait, and the next produce request carries all of them. An idle publisher
 * sends at once, so a lone request waits for nobody; under load a produce request carries many
 * HTTP requests' records and its cost is shared. If a produce request fails, every HTTP request
 * in it is answered 503: none of them was acknowledged, and a retry is deduplicated downstream.
 */
export class Publisher {
  readonly #producer: Producer;
  readonly #codec: ResponseCodec;
  readonly #topic: string;
  #waiting: Waiting[] = [];
  #sending = false;

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
    let messages: Message[];
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
    const bytes = messages.reduce((n, m) => n + (m.value as Buffer).length + 64, 0);
    await new Promise<void>((resolve, reject) => {
      this.#waiting.push({
        messages,
        bytes,
        done: (error) => {
          if (error === undefined) resolve();
          else reject(error);
        },
      });
      void this.#drain();
    });
  }

  /** Sends what is waiting, one produce request at a time, until nothing is. */
  async #drain(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#waiting.length > 0) {
        const group = this.#nextGroup();
        try {
          await this.#producer.send({
            topic: this.#topic,
            acks: -1,
            timeout: 5000,
            messages: group.flatMap((w) => w.messages),
          });
          for (const w of group) w.done();
        } catch (cause) {
          const error = new NpsError('SERVICE_UNAVAILABLE', 'Kafka unavailable', {
            cause,
            retriable: true,
          });
          for (const w of group) w.done(error);
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Takes waiting requests in arrival order, up to MAX_GROUP_BYTES (always at least one). */
  #nextGroup(): Waiting[] {
    let bytes = 0;
    let n = 0;
    for (const w of this.#waiting) {
      if (n > 0 && bytes + w.bytes > MAX_GROUP_BYTES) break;
      bytes += w.bytes;
      n++;
    }
    return this.#waiting.splice(0, n);
  }

  async close(): Promise<void> {
    await this.#producer.disconnect();
  }
}
