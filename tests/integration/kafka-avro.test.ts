import { readFileSync } from 'node:fs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ResponseCodec } from '../../src/kafka/response-codec.js';
import { createTopic, endpoints, kafka, uniqueName } from '../support/services.js';

const schema = readFileSync(new URL('../../schemas/nps-response.avsc', import.meta.url), 'utf8');

function registry(): SchemaRegistry {
  return new SchemaRegistry({ host: endpoints().schemaRegistryUrl });
}

describe('Kafka with Avro through the schema registry', () => {
  it('a record registered, produced and consumed in a consumer group decodes back to what was sent', async () => {
    const topic = await createTopic(3);
    const reg = registry();
    const { id } = await reg.register(
      { type: SchemaType.AVRO, schema },
      { subject: `${topic}-value` },
    );

    const sent = {
      responseId: uniqueName('r'),
      surveyId: 'checkout.v2',
      channel: 'sms',
      score: 9,
      comment: 'Hurtig levering, tak!',
      locale: 'da',
      respondentId: null,
      segment: { region: 'nordics' },
      respondedAt: Date.parse('2026-11-22T10:15:00.000Z'),
      receivedAt: Date.parse('2026-11-22T10:15:01.250Z'),
      providerMessageId: 'SM0123456789abcdef0123456789abcdef',
      language: 'da',
      themes: ['delivery'],
      taxonomyVersion: 'default-1',
    };

    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: sent.responseId, value: await reg.encode(id, sent) }],
    });

    const consumer = kafka().consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    onTestFinished(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: unknown }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          resolve({
            key: message.key?.toString() ?? '',
            value: await registry().decode(message.value ?? Buffer.alloc(0)),
          });
        },
      });
    });

    expect(received.key).toBe(sent.responseId);
    expect(received.value).toEqual(sent);
  });

  it('the registry refuses a change old readers could not handle (BACKWARD) and accepts an optional field old readers decode', async () => {
    const subject = `${uniqueName('compat')}-value`;
    const reg = registry();
    await reg.register({ type: SchemaType.AVRO, schema }, { subject });

    const parsed = JSON.parse(schema) as { fields: object[] };
    const withRequiredField = {
      ...parsed,
      fields: [...parsed.fields, { name: 'mandatoryNew', type: 'string' }],
    };
    await expect(
      reg.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(withRequiredField) },
        { subject },
      ),
    ).rejects.toThrow();

    const withOptionalField = {
      ...parsed,
      fields: [...parsed.fields, { name: 'optionalNew', type: ['null', 'string'], default: null }],
    };
    const second = await reg.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(withOptionalField) },
      { subject },
    );
    expect(second.id).toBeGreaterThan(0);

    // A record written with the new schema still decodes in today's reader, the extra field unseen.
    const record = {
      responseId: 'r-1',
      surveyId: 'checkout',
      channel: 'email',
      score: 7,
      comment: null,
      locale: 'sv',
      respondentId: null,
      segment: {},
      respondedAt: Date.parse('2026-11-22T10:00:00Z'),
      receivedAt: Date.parse('2026-11-22T10:00:01Z'),
      providerMessageId: null,
      language: null,
      themes: null,
      taxonomyVersion: null,
    };
    const written = await reg.encode(second.id, { ...record, optionalNew: 'from a newer writer' });
    const reader = new ResponseCodec(endpoints().schemaRegistryUrl, subject.replace(/-value$/, ''));
    expect(await reader.decode(written)).toEqual(record);
  });
});
