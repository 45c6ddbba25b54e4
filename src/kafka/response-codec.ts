import { readFileSync } from 'node:fs';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { isScore } from '../domain/classification.js';
import { CHANNELS, SURVEY_ID } from '../domain/response.js';
import type { Channel, NpsResponse } from '../domain/response.js';
import { fromPackageRoot } from '../package-root.js';

const SCHEMA = readFileSync(fromPackageRoot('schemas', 'nps-response.avsc'), 'utf8');

/** Why a record on the topic cannot be counted; goes to the dead-letter topic with it. */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

/**
 * Avro encoding of responses through the schema registry, subject `<topic>-value`, BACKWARD
 * compatible. Decoding caches schemas by id, so known schemas keep flowing while the registry is
 * down.
 */
export class ResponseCodec {
  readonly #registry: SchemaRegistry;
  readonly #subject: string;
  #schemaId: number | undefined;

  constructor(registryUrl: string, topic: string) {
    this.#registry = new SchemaRegistry({ host: registryUrl });
    this.#subject = `${topic}-value`;
  }

  /** Registers the schema (idempotent) and remembers its id for encoding. */
  async register(): Promise<number> {
    const { id } = await this.#registry.register(
      { type: SchemaType.AVRO, schema: SCHEMA },
      { subject: this.#subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    this.#schemaId = id;
    return id;
  }

  async encode(response: NpsResponse): Promise<Buffer> {
    const id = this.#schemaId ?? (await this.register());
    return this.#registry.encode(id, response);
  }

  /** Decodes and checks a record; throws PoisonRecordError when it cannot be counted. */
  async decode(value: Buffer | null): Promise<NpsResponse> {
    if (value === null || value.length === 0) throw new PoisonRecordError('empty record');
    let decoded: unknown;
    try {
      decoded = await this.#registry.decode(value);
    } catch (error) {
      if (isRegistryUnavailable(error)) throw error;
      throw new PoisonRecordError(
        `not decodable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return checkResponse(decoded);
  }
}

function isRegistryUnavailable(error: unknown): boolean {
  // Connection errors and 5xx mean "try again later", not "this record is bad".
  const e = error as { status?: number; code?: string; message?: string };
  if (typeof e.status === 'number') return e.status >= 500;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|fetch failed/i.test(e.message ?? '');
}

/**
 * The record check after decoding: what the schema cannot say (id formats, score range) and
 * defaults for fields an older writer left out. Throws PoisonRecordError naming the reason.
 */
export function checkResponse(value: unknown): NpsResponse {
  const r = value as Partial<NpsResponse>;
  if (typeof r.responseId !== 'string' || r.responseId === '')
    throw new PoisonRecordError('responseId missing');
  if (typeof r.surveyId !== 'string' || !SURVEY_ID.test(r.surveyId))
    throw new PoisonRecordError('surveyId invalid');
  if (!isScore(r.score))
    throw new PoisonRecordError(`score ${String(r.score)} is not an integer 0-10`);
  if (!(CHANNELS as readonly unknown[]).includes(r.channel))
    throw new PoisonRecordError('channel invalid');
  if (typeof r.respondedAt !== 'number' || !Number.isFinite(r.respondedAt)) {
    throw new PoisonRecordError('respondedAt invalid');
  }
  return {
    responseId: r.responseId,
    surveyId: r.surveyId,
    channel: r.channel as Channel,
    score: r.score,
    comment: r.comment ?? null,
    locale: r.locale ?? null,
    respondentId: r.respondentId ?? null,
    segment: r.segment ?? {},
    respondedAt: r.respondedAt,
    receivedAt: typeof r.receivedAt === 'number' ? r.receivedAt : r.respondedAt,
    providerMessageId: r.providerMessageId ?? null,
    language: r.language ?? null,
    themes: Array.isArray(r.themes) ? r.themes : null,
    taxonomyVersion: r.taxonomyVersion ?? null,
  };
}
