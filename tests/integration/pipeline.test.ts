import { createHash } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { normalizedResponse } from '../../src/domain/response.js';
import { ResponseCodec } from '../../src/kafka/response-codec.js';
import { clickhouse, endpoints, kafka } from '../support/services.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  eventually,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

type Live = {
  responses: number;
  promoters: number;
  passives: number;
  detractors: number;
  nps: number | null;
  marginOfError: number | null;
};

async function live(base: string, surveyId: string, query = ''): Promise<Live> {
  const { status, body } = await api(base, `/v1/nps/live?surveyId=${surveyId}${query}`, {
    key: READ_KEY,
  });
  expect(status).toBe(200);
  return body as unknown as Live;
}

describe('the pipeline over HTTP', () => {
  it('responses posted to the API show up in the live window and in history with exact counts', async () => {
    const { url } = await startPipeline();
    const surveyId = uniqueName('checkout');
    // 5 promoters, 3 passives, 2 detractors: NPS 30, MoE 196 * sqrt((0.7 - 0.09) / 10) = 48.4
    const scores = [10, 9, 9, 10, 9, 8, 7, 7, 3, 0];
    const posted = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: scores.map((score, i) => ({
        surveyId,
        score,
        channel: i % 2 === 0 ? 'web' : 'sms',
        comment: `c${i}`,
      })),
    });
    expect(posted.status).toBe(202);
    expect(posted.body.accepted).toBe(10);

    const all = await eventually(
      () => live(url, surveyId),
      (l) => l.responses >= 10,
    );
    expect(all).toMatchObject({
      responses: 10,
      promoters: 5,
      passives: 3,
      detractors: 2,
      nps: 30,
      marginOfError: 48.4,
    });
    const sms = await live(url, surveyId, '&channel=sms&window=15m');
    expect(sms).toMatchObject({ channel: 'sms', window: '15m', responses: 5 });

    const from = new Date(Date.now() - 86_400_000).toISOString();
    const history = await eventually(
      async () =>
        (
          await api(url, `/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=day`, {
            key: READ_KEY,
          })
        ).body,
      // History follows live by one ClickHouse insert per partition.
      (b) =>
        Array.isArray(b.series) && (b.series as Live[]).reduce((n, x) => n + x.responses, 0) >= 10,
    );
    const series = history.series as Live[];
    expect(series.reduce((n, b) => n + b.responses, 0)).toBe(10);
    expect(series.at(-1)).toMatchObject({ promoters: 5, passives: 3, detractors: 2 });
  });

  it('a response submitted twice with the same responseId is counted once, live and in history', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('dup');
    const responseId = uniqueName('resp');
    for (let i = 0; i < 3; i++) {
      const res = await api(url, '/v1/responses', {
        key: INGEST_KEY,
        body: { surveyId, score: 2, responseId },
      });
      expect(res.status).toBe(202);
    }
    const marker = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: { surveyId, score: 10 },
    });
    expect(marker.status).toBe(202);

    await drained(config);
    expect(await live(url, surveyId)).toMatchObject({ responses: 2, detractors: 1, promoters: 1 });

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const history = await eventually(
      async () =>
        (
          await api(url, `/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=hour`, {
            key: READ_KEY,
          })
        ).body,
      (b) =>
        Array.isArray(b.series) && (b.series as Live[]).reduce((n, s) => n + s.responses, 0) >= 2,
    );
    expect((history.series as Live[]).reduce((n, s) => n + s.responses, 0)).toBe(2);
  });

  it('a late response lands in history but not in the 24h window', async () => {
    const { url } = await startPipeline();
    const surveyId = uniqueName('late');
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: { surveyId, score: 9, respondedAt: threeDaysAgo },
    });
    await api(url, '/v1/responses', { key: INGEST_KEY, body: { surveyId, score: 4 } });

    const day = await eventually(
      () => live(url, surveyId),
      (l) => l.responses >= 1,
    );
    const week = await eventually(
      () => live(url, surveyId, '&window=7d'),
      (l) => l.responses >= 2,
    );
    expect(day).toMatchObject({ responses: 1, detractors: 1, promoters: 0 });
    expect(week).toMatchObject({ responses: 2, detractors: 1, promoters: 1 });

    const from = new Date(Date.now() - 7 * 86_400_000).toISOString();
    // Live counts come before the history insert of the same batch: wait for both rows there too.
    const series = await eventually(
      async () =>
        (
          await api(url, `/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=day`, {
            key: READ_KEY,
          })
        ).body.series as (Live & { start: string })[],
      (s) => s.reduce((n, b) => n + b.responses, 0) >= 2,
    );
    expect(series).toHaveLength(2);
    expect(series[0]).toMatchObject({
      start: `${threeDaysAgo.slice(0, 10)}T00:00:00.000Z`,
      promoters: 1,
      responses: 1,
    });
  });

  it('a batch with one invalid item is rejected whole, naming the item and field, and nothing is recorded', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('bad');
    const res = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: [
        { surveyId, score: 9 },
        { surveyId, score: 11 },
        { surveyId, score: '7' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.detail).toContain('[1].score must be an integer from 0 to 10');
    expect(res.body.errors).toEqual([
      { field: '[1].score', message: 'must be an integer from 0 to 10' },
      { field: '[2].score', message: 'must be an integer from 0 to 10' },
    ]);

    await api(url, '/v1/responses', { key: INGEST_KEY, body: { surveyId, score: 7 } });
    await drained(config);
    expect(await live(url, surveyId)).toMatchObject({ responses: 1, passives: 1, promoters: 0 });
  });

  it.each([
    ['no body as JSON', { raw: 'score=9', contentType: 'application/x-www-form-urlencoded' }, 415],
    ['invalid JSON', { raw: '{"surveyId": "a", ', contentType: 'application/json' }, 400],
    [
      'a body over 1 MB',
      { raw: JSON.stringify({ surveyId: 'a', score: 1, comment: 'x'.repeat(1_100_000) }) },
      413,
    ],
    ['an empty batch', { body: [] }, 400],
    ['a survey id with spaces', { body: { surveyId: 'a b', score: 3 } }, 400],
    [
      'a respondedAt far in the future',
      { body: { surveyId: 'a', score: 3, respondedAt: '2999-01-01T00:00:00Z' } },
      400,
    ],
  ])('refuses %s with a problem+json', async (_name, init, status) => {
    const { url } = await startPipeline(['ingest']);
    const res = await api(url, '/v1/responses', { key: INGEST_KEY, ...init });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.status).toBe(status);
  });

  it('asks for a key (401) and for the right scope (403)', async () => {
    const { url } = await startPipeline(['ingest', 'api']);
    expect((await api(url, '/v1/responses', { body: { surveyId: 'a', score: 9 } })).status).toBe(
      401,
    );
    expect(
      (
        await api(url, '/v1/responses', {
          key: 'wrong-key-0123456789',
          body: { surveyId: 'a', score: 9 },
        })
      ).status,
    ).toBe(401);
    expect(
      (await api(url, '/v1/responses', { key: READ_KEY, body: { surveyId: 'a', score: 9 } }))
        .status,
    ).toBe(403);
    expect((await api(url, '/v1/nps/live?surveyId=a', { key: INGEST_KEY })).status).toBe(403);
    expect((await api(url, '/v1/nps/live?surveyId=a&window=2h', { key: READ_KEY })).status).toBe(
      400,
    );
  });

  it('accepts a key configured as its SHA-256, and holds a survey-restricted key to its surveys', async () => {
    const hashed = 'hashed-ingest-key-0123456789';
    const shopOnly = 'shop-only-read-key-0123456789';
    const shop = uniqueName('shop');
    const other = uniqueName('other');
    const env = {
      ...pipelineEnv(),
      NPS_API_KEYS: [
        `sha256:${createHash('sha256').update(hashed).digest('hex')}:ingest:${shop}`,
        `${shopOnly}:read:${shop}`,
      ].join(','),
    };
    const { url } = await startPipeline(['ingest', 'api'], env);
    expect(
      (await api(url, '/v1/responses', { key: hashed, body: { surveyId: shop, score: 9 } })).status,
    ).toBe(202);
    const mixed = await api(url, '/v1/responses', {
      key: hashed,
      body: [
        { surveyId: shop, score: 9 },
        { surveyId: other, score: 1 },
      ],
    });
    expect(mixed.status).toBe(403);
    expect(mixed.body.detail).toContain(`not allowed for survey ${other}`);
    expect((await api(url, `/v1/nps/live?surveyId=${shop}`, { key: shopOnly })).status).toBe(200);
    expect((await api(url, `/v1/nps/live?surveyId=${other}`, { key: shopOnly })).status).toBe(403);
    expect(
      (
        await api(url, `/v1/nps/history?surveyId=${other}&from=2026-01-01T00:00:00Z`, {
          key: shopOnly,
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await api(url, `/v1/responses`, {
          key: `sha256:${createHash('sha256').update(hashed).digest('hex')}`,
          body: { surveyId: shop, score: 9 },
        })
      ).status,
    ).toBe(401);
  });

  it('answers 429 with Retry-After past a key’s or an address’s rate, and records none of the refused', async () => {
    const env = { ...pipelineEnv(), NPS_RATE_LIMIT_PER_KEY: '1', NPS_RATE_LIMIT_PER_IP: '3' };
    const { url, config } = await startPipeline(['ingest', 'process', 'api'], env);
    const surveyId = uniqueName('limited');
    // Concurrent bursts, so the outcome does not depend on how fast a loaded machine answers: a
    // bucket admits at most its burst plus the rate times the time the burst took.
    const burst = async (n: number, send: () => Promise<{ status: number; headers: Headers }>) => {
      const began = performance.now();
      const answers = await Promise.all(Array.from({ length: n }, send));
      return { answers, seconds: (performance.now() - began) / 1000 };
    };

    // Per key (1/s, burst 2): six posts at once.
    const perKey = await burst(6, () =>
      api(url, '/v1/responses', { key: INGEST_KEY, body: { surveyId, score: 10 } }),
    );
    const accepted = perKey.answers.filter((a) => a.status === 202).length;
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThanOrEqual(2 + Math.floor(perKey.seconds));
    const refused = perKey.answers.find((a) => a.status === 429);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(refused?.headers.get('content-type')).toContain('application/problem+json');

    // Per address (3/s, burst 6): eight requests at once, whatever the key or path (unsigned
    // webhooks included), are more than the bucket can ever hold.
    const perAddress = await burst(8, () =>
      fetch(`${url}/v1/webhooks/twilio/sms?surveyId=${surveyId}`, { method: 'POST' }),
    );
    const admitted = perAddress.answers.filter((a) => a.status !== 429).length;
    expect(admitted).toBeLessThanOrEqual(6 + Math.floor(3 * perAddress.seconds));
    expect(perAddress.answers.map((a) => a.status)).toContain(429);

    await drained(config);
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body;
    expect(live).toMatchObject({ responses: accepted });
  });

  it('sends security headers, and CORS only to the configured origins', async () => {
    const env = { ...pipelineEnv(), NPS_CORS_ORIGINS: 'https://shop.example' };
    const { url } = await startPipeline(['ingest'], env);
    const preflight = (origin: string) =>
      fetch(`${url}/v1/responses`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(
      (await preflight('https://evil.example')).headers.get('access-control-allow-origin'),
    ).toBeNull();

    const res = await fetch(`${url}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('reports readiness and serves Prometheus metrics', async () => {
    const { url } = await startPipeline();
    expect((await api(url, '/healthz')).status).toBe(200);
    expect((await api(url, '/readyz')).body).toEqual({ status: 'ready' });
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    expect(metrics).toContain('nps_ingest_total');
    expect(metrics).toContain('nps_sink_latency_seconds');
  });
});

describe('poison records', () => {
  it('an undecodable record and one with an impossible score go to the dead-letter topic with their reason; the partition keeps moving', async () => {
    const { url, config } = await startPipeline(['process', 'api']);
    const surveyId = uniqueName('poison');
    const codec = new ResponseCodec(endpoints().schemaRegistryUrl, config.topic);
    await codec.register();
    const valid = normalizedResponse({
      responseId: uniqueName('ok'),
      surveyId,
      channel: 'web',
      score: 9,
      respondedAt: Date.now(),
      receivedAt: Date.now(),
    });
    const producer = kafka().producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    // All on one partition, poison first, so the valid record only counts if the partition moved on.
    await producer.send({
      topic: config.topic,
      acks: -1,
      messages: [
        { partition: 0, key: 'garbage', value: Buffer.from('not avro at all') },
        {
          partition: 0,
          key: 'impossible',
          value: await codec.encode({ ...valid, responseId: uniqueName('bad'), score: 42 }),
        },
        { partition: 0, key: valid.responseId, value: await codec.encode(valid) },
      ],
    });

    await drained(config);
    expect(await live(url, surveyId)).toMatchObject({ responses: 1, promoters: 1 });

    const consumer = kafka().consumer({ groupId: uniqueName('dlq-reader') });
    await consumer.connect();
    onTestFinished(() => consumer.disconnect());
    await consumer.subscribe({ topic: config.deadLetterTopic, fromBeginning: true });
    const dead: { key: string; reason: string }[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          dead.push({
            key: message.key?.toString() ?? '',
            reason: message.headers?.['nps-dlq-reason']?.toString() ?? '',
          });
          if (dead.length === 2) resolve();
          return Promise.resolve();
        },
      });
    });
    expect(dead).toEqual([
      { key: 'garbage', reason: expect.stringContaining('not decodable') as unknown },
      { key: 'impossible', reason: 'score 42 is not an integer 0-10' },
    ]);
  });
});

describe('OpenAPI document', () => {
  it('describes only routes that exist: every documented path and method is served', async () => {
    const { url } = await startPipeline();
    const doc = (await api(url, '/openapi.json')).body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => ['get', 'post', 'delete'].includes(m))
        .map(
          (method) =>
            [
              method.toUpperCase(),
              path.replace('{token}', 'not-a-token').replace('{respondentId}', 'nobody'),
            ] as const,
        ),
    );
    expect(routes.length).toBeGreaterThanOrEqual(14);
    for (const [method, path] of routes) {
      const controller = new AbortController();
      const res = await fetch(`${url}${path}`, { method, signal: controller.signal });
      const text = path.endsWith('/stream') ? '' : await res.text();
      controller.abort();
      expect(text, `${method} ${path}`).not.toContain('No route for');
    }
  });
});

describe('personal data', () => {
  it('an email or phone number given as respondentId is stored only as its keyed HMAC; an opaque id as given', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('pii');
    const posted = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: [
        { surveyId, score: 3, respondentId: 'Kunde@Example.dk' },
        { surveyId, score: 4, respondentId: '+45 12 34 56 78' },
        { surveyId, score: 5, respondentId: 'crm-000123' },
      ],
    });
    expect(posted.status).toBe(202);
    await drained(config);
    const rows = await (
      await clickhouse().query({
        query:
          'SELECT score, respondent_id FROM {db:Identifier}.responses FINAL WHERE survey_id = {s:String} ORDER BY score',
        query_params: { db: config.clickhouseDatabase, s: surveyId },
        format: 'JSONEachRow',
      })
    ).json<{ score: number; respondent_id: string }>();
    const [email, phone, opaque] = rows.map((r) => r.respondent_id);
    expect(email).toMatch(/^r_[A-Za-z0-9_-]{32}$/);
    expect(phone).toMatch(/^r_[A-Za-z0-9_-]{32}$/);
    expect(opaque).toBe('crm-000123');
    expect(JSON.stringify(rows)).not.toMatch(/example\.dk|12 34 56 78/i);
  });
});
