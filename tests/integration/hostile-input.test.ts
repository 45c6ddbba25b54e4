import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';
import { clickhouse, kafkaAdmin, redis } from '../support/services.js';
import { badValue, invalidItem, nastyString } from '../support/hostile.js';

const PROPERTY_RUNS = 80;

function isProblem(res: { status: number; headers: Headers }): boolean {
  return (
    res.status >= 400 &&
    res.status < 500 &&
    (res.headers.get('content-type') ?? '').includes('application/problem+json')
  );
}

describe('hostile and broken input', () => {
  it('every endpoint answers bad input with a 4xx problem and records nothing anywhere', async () => {
    const env = { ...pipelineEnv(), NPS_RATE_LIMIT_PER_KEY: '0', NPS_RATE_LIMIT_PER_IP: '0' };
    const { url, config } = await startPipeline(['ingest', 'process', 'api'], env);
    const raw = (path: string, body: string | Uint8Array, contentType: string, key = INGEST_KEY) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${key}` },
        body,
      });

    // Invalid items, alone or hidden in a batch of valid ones.
    await fc.assert(
      fc.asyncProperty(invalidItem, fc.nat({ max: 3 }), async (item, validAround) => {
        const valid = { surveyId: 'hostile', score: 9 };
        const body =
          validAround === 0
            ? item
            : [...Array.from({ length: validAround }, () => valid), item, valid];
        const res = await api(url, '/v1/responses', { key: INGEST_KEY, body });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(typeof res.body.detail).toBe('string');
      }),
      // Which items are invalid is validation's business (tests/unit/response.test.ts, many more
      // runs); here: that any of them, alone or in a batch, is a 400 problem recording nothing.
      { numRuns: PROPERTY_RUNS / 4 },
    );

    // Arbitrary bytes and text declared as JSON, and valid JSON under the wrong content types.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.string({ maxLength: 300 }),
          fc.json().filter((j) => !j.includes('surveyId')),
        ),
        async (body) => {
          expect(isProblem(await raw('/v1/responses', body, 'application/json'))).toBe(true);
        },
      ),
      { numRuns: PROPERTY_RUNS },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/xml',
          'multipart/form-data; boundary=x',
          '',
        ),
        async (type) => {
          const res = await raw(
            '/v1/responses',
            JSON.stringify({ surveyId: 'hostile', score: 9 }),
            type,
          );
          expect(res.status).toBe(415);
        },
      ),
      { numRuns: 5 },
    );

    // Invalid UTF-8, a body over the limit, nesting deeper than any real client sends.
    const validJson = Buffer.from('{"surveyId":"hostile","score":9,"comment":"ok "}');
    const invalidUtf8 = Buffer.concat([
      validJson.subarray(0, validJson.length - 3),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    expect((await raw('/v1/responses', invalidUtf8, 'application/json')).status).toBe(400);
    const huge = JSON.stringify({ surveyId: 'hostile', score: 9, comment: 'x'.repeat(1_100_000) });
    expect((await raw('/v1/responses', huge, 'application/json')).status).toBe(413);
    expect(
      isProblem(
        await raw('/v1/responses', '['.repeat(50_000) + ']'.repeat(50_000), 'application/json'),
      ),
    ).toBe(true);

    // Invitations and score links with broken input; a link POST with bytes that are not UTF-8.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          invalidItem,
          fc.record({
            surveyId: fc.constant('hostile'),
            channel: badValue.channel ?? fc.constant('x'),
          }),
        ),
        async (body) => {
          const res = await api(url, '/v1/invitations', { key: INGEST_KEY, body });
          expect(res.status).toBe(400);
        },
      ),
      { numRuns: PROPERTY_RUNS / 4 },
    );
    const invitation = (
      await api(url, '/v1/invitations', {
        key: INGEST_KEY,
        body: { surveyId: 'hostile', channel: 'email' },
      })
    ).body as { token: string; invitationId: string };
    await fc.assert(
      fc.asyncProperty(badValue.score ?? fc.constant(null), nastyString, async (score, token) => {
        const forged = await api(url, `/v1/r/${encodeURIComponent(token)}x`, {
          body: { score: 9 },
        });
        expect([400, 404]).toContain(forged.status);
        const bad = await api(url, `/v1/r/${invitation.token}`, { body: { score } });
        expect(bad.status).toBe(400);
      }),
      { numRuns: PROPERTY_RUNS / 4 },
    );
    expect(
      (
        await raw(
          `/v1/r/${invitation.token}`,
          'score=9&comment=%FF%FE',
          'application/x-www-form-urlencoded',
        )
      ).status,
    ).toBe(400);

    // Webhooks: arbitrary forms, unsigned or signed with garbage, are refused.
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(
            'Body',
            'From',
            'MessageSid',
            'timestamp',
            'token',
            'signature',
            'stripped-text',
            'Message-Id',
          ),
          nastyString,
        ),
        fc.constantFrom('/v1/webhooks/twilio/sms', '/v1/webhooks/mailgun'),
        async (form, path) => {
          const res = await fetch(`${url}${path}?surveyId=hostile`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-twilio-signature': 'forged=',
            },
            body: new URLSearchParams(form).toString(),
          });
          expect(res.status).toBe(403);
          expect(isProblem(res)).toBe(true);
        },
      ),
      { numRuns: PROPERTY_RUNS / 2 },
    );

    // Reads with hostile query strings never fail on our side.
    await fc.assert(
      fc.asyncProperty(
        nastyString,
        nastyString,
        fc.constantFrom('/v1/nps/live', '/v1/nps/history'),
        async (a, b, path) => {
          const res = await fetch(
            `${url}${path}?surveyId=${encodeURIComponent(a)}&window=${encodeURIComponent(b)}&from=${encodeURIComponent(b)}`,
            {
              headers: { authorization: `Bearer ${READ_KEY}` },
            },
          );
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: PROPERTY_RUNS / 2 },
    );

    // Still up, and nothing reached Kafka, Redis or ClickHouse.
    expect((await api(url, '/healthz')).status).toBe(200);
    const admin = await kafkaAdmin();
    const offsets = await admin.fetchTopicOffsets(config.topic);
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(0);
    const { client } = await redis();
    // Only the one valid invitation the test made itself (the link above) is remembered.
    expect(await client.keys(`${config.redisPrefix}*`)).toEqual([
      `${config.redisPrefix}inv:${invitation.invitationId}`,
    ]);
    const rows = await (
      await clickhouse().query({
        query: 'SELECT count() AS n FROM {db:Identifier}.responses',
        query_params: { db: config.clickhouseDatabase },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    expect(rows).toEqual([{ n: '0' }]);
  });

  it('a segment value with quotes and semicolons is stored and read back verbatim', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('verbatim');
    const value = `o'brien"; DROP TABLE nps.responses; -- {x:String} $(id)`;
    const comment = `Jeg giver 3 fordi '; DELETE FROM responses; --`;
    expect(
      (
        await api(url, '/v1/responses', {
          key: INGEST_KEY,
          body: { surveyId, score: 3, comment, segment: { note: value } },
        })
      ).status,
    ).toBe(202);
    const read = async () =>
      (
        await clickhouse().query({
          query:
            'SELECT segment, comment FROM {db:Identifier}.responses WHERE survey_id = {s:String}',
          query_params: { db: config.clickhouseDatabase, s: surveyId },
          format: 'JSONEachRow',
        })
      ).json<{ segment: Record<string, string>; comment: string }>();
    let rows = await read();
    for (let i = 0; rows.length === 0 && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await read();
    }
    expect(rows).toEqual([{ segment: { note: value }, comment }]);
  });
});
