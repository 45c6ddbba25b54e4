import { randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build.js';
import { mailgunSignature } from '../../src/ingest/mailgun.js';
import { twilioSignature } from '../../src/ingest/twilio-sms.js';
import {
  ADMIN_KEY,
  MAILGUN_KEY,
  PUBLIC_BASE_URL,
  READ_KEY,
  TWILIO_TOKEN,
  drained,
  eventually,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

/**
 * The OpenAPI document against the running service: every documented operation is called for
 * real, for its success and for each error it documents, and each answer's status, content type,
 * headers and body must be what the document says; every route the server serves must be
 * documented and every documented one served.
 */

const addFormats = formatsPlugin as unknown as typeof formatsPlugin.default;

/** Ingest keys are rate-limited each: a fresh one per request keeps the limit out of the way. */
const INGEST_KEYS = Array.from({ length: 60 }, (_, i) => `contract-ingest-key-${i}-0123456789`);
/** Spent on purpose until it answers 429. */
const LIMITED_KEY = 'contract-limited-ingest-key-0123456789';
const RATE_PER_KEY = 3;
const RATE_PER_IP = 3;

/**
 * Documented answers not produced here, each with the reason. Every other documented operation
 * and status must be exercised below.
 */
const NOT_EXERCISED: Readonly<Record<string, string>> = {
  'POST /v1/responses 503': 'needs Kafka down: tests/integration/kafka-outage.test.ts',
  'POST /v1/invitations 503': 'needs Kafka or Redis down: kafka-outage and redis-loss tests',
  'POST /v1/invitations/batch 503': 'needs Kafka or Redis down: kafka-outage and redis-loss tests',
  'POST /v1/r/{token} 503': 'needs Kafka down: tests/integration/kafka-outage.test.ts',
  'POST /v1/webhooks/twilio/sms 503': 'needs Kafka down: tests/integration/kafka-outage.test.ts',
  'POST /v1/webhooks/mailgun 503': 'needs Kafka down: tests/integration/kafka-outage.test.ts',
  'DELETE /v1/respondents/{respondentId} 503': 'needs ClickHouse or Redis down',
  'GET /readyz 503': 'needs a dependency down: tests/integration/clickhouse-outage.test.ts',
  'GET / 503': 'only where the dashboard was never built; this test builds it',
};

/**
 * Served routes outside the document, each with the reason. The SQL endpoint is another server
 * on its own port (ClickHouse's HTTP protocol, documented by ClickHouse), not a route of this app.
 */
const UNDOCUMENTED_ROUTES: Readonly<Record<string, string>> = {
  '* /assets': "the dashboard's static files (hashed names), not an API",
};

interface Probe {
  /** `METHOD /documented/{path}` */
  readonly op: string;
  readonly status: number;
  /** The URL path and query actually called. */
  readonly url: string;
  readonly key?: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent this many times (rate limits); the last answer is the one checked. */
  readonly times?: number;
  /** Answers that must come after each other (the same address spending its tokens). */
  readonly sequential?: boolean;
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Headers;
  readonly text: string;
}

/** A fresh client address for the failed-authentication limit (NPS_TRUST_PROXY=1). */
let addresses = 0;
const address = () => `198.51.100.${(addresses++ % 250) + 1}`;
let keys = 0;
const ingestKey = () => INGEST_KEYS[keys++] ?? '';

async function send(base: string, p: Probe): Promise<Answer> {
  const headers: Record<string, string> = {
    'x-forwarded-for': address(),
    ...p.headers,
  };
  if (p.key !== undefined) headers.authorization = `Bearer ${p.key}`;
  if (p.body !== undefined) headers['content-type'] = p.contentType ?? 'application/json';
  const method = p.op.split(' ')[0] ?? 'GET';
  const controller = new AbortController();
  const res = await fetch(`${base}${p.url}`, {
    method,
    headers,
    body: p.body,
    redirect: 'manual',
    signal: controller.signal,
  });
  const contentType = res.headers.get('content-type') ?? '';
  // An event stream never ends: its first bytes are enough.
  const text = contentType.startsWith('text/event-stream') ? '' : await res.text();
  controller.abort();
  return { status: res.status, contentType, headers: res.headers, text };
}

const json = (value: unknown) => JSON.stringify(value);
const big = (bytes: number) => json({ padding: 'x'.repeat(bytes) });
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';

interface Doc {
  readonly paths: Record<string, Record<string, DocOperation>>;
  readonly components: { readonly responses: Record<string, DocAnswer> };
}
interface DocOperation {
  readonly responses: Record<string, DocAnswer | { $ref: string }>;
}
interface DocAnswer {
  readonly headers?: Record<string, unknown>;
  readonly content?: Record<string, unknown>;
}

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** The documented answer of an operation for a status, and where in the document it sits. */
function documented(
  doc: Doc,
  op: string,
  status: number,
): { answer: DocAnswer; at: string } | undefined {
  const [method = '', path = ''] = op.split(' ');
  const found = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
  if (!found) return undefined;
  if ('$ref' in found && typeof found.$ref === 'string') {
    const name = found.$ref.split('/').at(-1) ?? '';
    const answer = doc.components.responses[name];
    return answer && { answer, at: `/${pointer('components', 'responses', name)}` };
  }
  return {
    answer: found as DocAnswer,
    at: `/${pointer('paths', path, method.toLowerCase(), 'responses', String(status))}`,
  };
}

/** Problems with one real answer against the document; empty when it conforms. */
function conformance(ajv: Ajv2020, doc: Doc, p: Probe, got: Answer): string[] {
  const found = documented(doc, p.op, got.status);
  if (!found) return [`answered ${got.status}, which is not documented`];
  if (got.status !== p.status) return [`answered ${got.status}, expected ${p.status}`];
  const problems: string[] = [];
  for (const [header, spec] of Object.entries(found.answer.headers ?? {})) {
    if ((spec as { required?: boolean }).required && !got.headers.has(header))
      problems.push(`lacks the required header ${header}`);
  }
  const content = found.answer.content;
  if (!content) {
    if (got.text !== '' && got.status !== 303) problems.push(`has a body, none is documented`);
    return problems;
  }
  const mediaType = got.contentType.split(';')[0]?.trim() ?? '';
  if (!(mediaType in content)) {
    return [...problems, `is ${mediaType}, documented: ${Object.keys(content).join(', ')}`];
  }
  const validate = ajv.getSchema(`doc#${found.at}/${pointer('content', mediaType, 'schema')}`);
  if (!validate) return [...problems, 'has no schema to check by'];
  const isJson = mediaType.endsWith('json');
  let value: unknown = got.text;
  if (isJson) {
    try {
      value = JSON.parse(got.text);
    } catch {
      return [...problems, 'is not JSON'];
    }
  }
  if (mediaType === 'text/event-stream') return problems;
  if (!validate(value)) problems.push(`body: ${ajv.errorsText(validate.errors)}`);
  return problems;
}

describe('the OpenAPI contract', () => {
  beforeAll(async () => {
    await buildDashboard();
  }, 120_000);

  it('every documented operation answers, for success and each documented error, as the document says; every served route is documented and vice versa', async () => {
    const env = pipelineEnv();
    const pipeline = await startPipeline(undefined, {
      ...env,
      NPS_API_KEYS: [
        env.NPS_API_KEYS,
        ...INGEST_KEYS.map((k) => `${k}:ingest`),
        `${LIMITED_KEY}:ingest`,
      ].join(','),
      NPS_RATE_LIMIT_PER_KEY: String(RATE_PER_KEY),
      NPS_RATE_LIMIT_PER_IP: String(RATE_PER_IP),
      NPS_TRUST_PROXY: '1',
      NPS_WEBHOOK_ALLOW_HTTP: '1',
      NPS_WEBHOOK_ALLOW_PRIVATE: '1',
      NPS_CASE_RULE: 'detractor',
    });
    const { url } = pipeline;
    const docAnswer = await send(url, {
      op: 'GET /openapi.json',
      status: 200,
      url: '/openapi.json',
    });
    const doc = JSON.parse(docAnswer.text) as Doc;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, 'doc');

    // Routes, both ways.
    const served = new Set(pipeline.routes.map((r) => `${r.method} ${r.path}`));
    const inDoc = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...served].filter((r) => !inDoc.has(r) && !(r in UNDOCUMENTED_ROUTES))).toEqual([]);
    expect([...inDoc].filter((r) => !served.has(r))).toEqual([]);
    expect(Object.keys(UNDOCUMENTED_ROUTES).filter((r) => !served.has(r))).toEqual([]);

    // What the probes need: responses (a detractor opens a case), invitations, an annotation.
    const surveyId = uniqueName('contract');
    const other = uniqueName('contract-other');
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const from = encodeURIComponent(iso(now - 86_400_000));
    const post = (path: string, key: string, body: unknown, headers = {}) =>
      send(url, {
        op: `POST ${path}`,
        status: 0,
        url: path,
        key,
        body: json(body),
        headers,
      });
    const accepted = await post('/v1/responses', ingestKey(), [
      { surveyId, score: 2, comment: 'Levering alt for sent', respondentId: 'c@example.com' },
      { surveyId, score: 10, comment: 'Great service' },
      { surveyId, score: 8, channel: 'sms' },
    ]);
    expect(accepted.status).toBe(202);
    const invited = await post('/v1/invitations', ingestKey(), {
      surveyId,
      channel: 'email',
      invitationId: `inv-${surveyId}`,
    });
    expect(invited.status).toBe(201);
    const { token } = JSON.parse(invited.text) as { token: string };
    const annotated = await post('/v1/annotations', ADMIN_KEY, {
      surveyId,
      at: iso(now - 3_600_000),
      label: 'New courier',
      annotationId: `a-${surveyId}`,
    });
    expect(annotated.status).toBe(201);
    const doomed = await post('/v1/annotations', ADMIN_KEY, {
      surveyId,
      at: iso(now),
      label: 'To delete',
    });
    const doomedId = (JSON.parse(doomed.text) as { annotationId: string }).annotationId;
    const subscribed = await post('/v1/subscriptions', ADMIN_KEY, {
      url: 'http://127.0.0.1:9/hook',
      events: ['response.created'],
      surveyId,
    });
    expect(subscribed.status).toBe(201);
    const subscriptionId = (JSON.parse(subscribed.text) as { subscriptionId: string })
      .subscriptionId;
    const doomedSubscription = await post('/v1/subscriptions', ADMIN_KEY, {
      url: 'http://127.0.0.1:9/other',
      events: ['response.detractor'],
    });
    const doomedSubscriptionId = (JSON.parse(doomedSubscription.text) as { subscriptionId: string })
      .subscriptionId;
    await drained(pipeline.config);
    const listed = await eventually(
      () =>
        send(url, {
          op: 'GET /v1/cases',
          status: 200,
          url: `/v1/cases?surveyId=${surveyId}`,
          key: ADMIN_KEY,
        }),
      (a) => a.text.includes('caseId'),
    );
    const caseId = (JSON.parse(listed.text) as { cases: { caseId: string }[] }).cases[0]?.caseId;
    expect(caseId).toBeDefined();
    const missingCase = `case_${'x'.repeat(24)}`;

    const twilio = (query: string, fields: Record<string, string>, signed = true) => {
      const path = `/v1/webhooks/twilio/sms?${query}`;
      return {
        body: form(fields),
        contentType: FORM,
        headers: {
          'x-twilio-signature': signed
            ? twilioSignature(TWILIO_TOKEN, PUBLIC_BASE_URL + path, fields)
            : 'forged',
        },
        url: path,
      };
    };
    const sid = () => `SM${randomBytes(16).toString('hex')}`;
    const mailgun = (fields: Record<string, string>, key = MAILGUN_KEY) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const mgToken = randomBytes(25).toString('hex');
      return form({
        ...fields,
        timestamp,
        token: mgToken,
        signature: mailgunSignature(key, timestamp, mgToken),
      });
    };
    const mail = () => ({
      'Message-Id': `<${randomBytes(8).toString('hex')}@example.com>`,
      'stripped-text': '9 Fine',
      sender: 'm@example.com',
    });
    const origin = { origin: url };
    const limitedAddress = (n: number) => ({ 'x-forwarded-for': `203.0.113.${n}` });

    const read = (op: string, query: string, bad: string): Probe[] => {
      const path = op.split(' ')[1] ?? '';
      return [
        { op, status: 200, url: `${path}?${query}`, key: READ_KEY },
        { op, status: 400, url: `${path}?${bad}`, key: READ_KEY },
        { op, status: 401, url: `${path}?${query}` },
        { op, status: 403, url: `${path}?${query}`, key: ingestKey() },
      ];
    };
    const range = `surveyId=${surveyId}&from=${from}`;

    const probes: Probe[] = [
      // Ingest.
      ...(['/v1/responses', '/v1/invitations', '/v1/invitations/batch'] as const).flatMap(
        (path): Probe[] => {
          const op = `POST ${path}`;
          const valid =
            path === '/v1/responses'
              ? { surveyId, score: 9 }
              : path === '/v1/invitations'
                ? { surveyId, channel: 'sms' }
                : [{ surveyId, channel: 'sms' }];
          const invalid =
            path === '/v1/invitations/batch' ? [{ surveyId, channel: 'fax' }] : { surveyId };
          return [
            {
              op,
              status: path === '/v1/responses' ? 202 : path === '/v1/invitations' ? 201 : 200,
              url: path,
              key: ingestKey(),
              body: json(valid),
            },
            { op, status: 400, url: path, key: ingestKey(), body: json(invalid) },
            { op, status: 401, url: path, body: json(valid) },
            { op, status: 403, url: path, key: READ_KEY, body: json(valid) },
            { op, status: 413, url: path, key: ingestKey(), body: big(1_100_000) },
            {
              op,
              status: 415,
              url: path,
              key: ingestKey(),
              body: json(valid),
              contentType: 'text/plain',
            },
            {
              op,
              status: 429,
              url: path,
              key: LIMITED_KEY,
              body: json(valid),
              times: 2 * RATE_PER_KEY + 3,
              sequential: true,
            },
          ];
        },
      ),
      {
        op: 'POST /v1/invitations',
        status: 200,
        url: '/v1/invitations',
        key: ingestKey(),
        body: json({ surveyId, channel: 'email', invitationId: `inv-${surveyId}` }),
      },
      {
        op: 'POST /v1/invitations',
        status: 409,
        url: '/v1/invitations',
        key: ingestKey(),
        body: json({ surveyId: other, channel: 'email', invitationId: `inv-${surveyId}` }),
      },
      // Score links.
      { op: 'GET /v1/r/{token}', status: 200, url: `/v1/r/${token}?score=9` },
      { op: 'GET /v1/r/{token}', status: 404, url: '/v1/r/forged.token' },
      {
        op: 'POST /v1/r/{token}',
        status: 200,
        url: `/v1/r/${token}`,
        body: form({ score: '9' }),
        contentType: FORM,
      },
      {
        op: 'POST /v1/r/{token}',
        status: 202,
        url: `/v1/r/${token}`,
        body: json({ score: 9, comment: 'Fine' }),
      },
      { op: 'POST /v1/r/{token}', status: 400, url: `/v1/r/${token}`, body: json({ score: 11 }) },
      {
        op: 'POST /v1/r/{token}',
        status: 404,
        url: '/v1/r/forged.token',
        body: json({ score: 9 }),
      },
      { op: 'POST /v1/r/{token}', status: 413, url: `/v1/r/${token}`, body: big(70_000) },
      {
        op: 'POST /v1/r/{token}',
        status: 429,
        url: '/v1/r/forged.token',
        body: json({ score: 9 }),
        headers: limitedAddress(1),
        times: 2 * RATE_PER_IP + 3,
        sequential: true,
      },
      // Provider webhooks.
      {
        op: 'POST /v1/webhooks/twilio/sms',
        status: 200,
        ...twilio(`surveyId=${surveyId}&segment.store=aarhus`, {
          MessageSid: sid(),
          From: '+4512345678',
          Body: '9 Fine',
        }),
      },
      {
        op: 'POST /v1/webhooks/twilio/sms',
        status: 400,
        ...twilio('surveyId=bad%20id', { MessageSid: sid(), Body: '9' }),
      },
      {
        op: 'POST /v1/webhooks/twilio/sms',
        status: 403,
        ...twilio(`surveyId=${surveyId}`, { MessageSid: sid(), Body: '9' }, false),
      },
      {
        op: 'POST /v1/webhooks/twilio/sms',
        status: 413,
        ...twilio(`surveyId=${surveyId}`, { MessageSid: sid(), Body: 'x'.repeat(70_000) }),
      },
      {
        op: 'POST /v1/webhooks/twilio/sms',
        status: 429,
        ...twilio(`surveyId=${surveyId}`, { MessageSid: sid(), Body: '9' }, false),
        headers: { 'x-twilio-signature': 'forged', ...limitedAddress(2) },
        times: 2 * RATE_PER_IP + 3,
        sequential: true,
      },
      {
        op: 'POST /v1/webhooks/mailgun',
        status: 200,
        url: `/v1/webhooks/mailgun?surveyId=${surveyId}`,
        body: mailgun(mail()),
        contentType: FORM,
      },
      {
        op: 'POST /v1/webhooks/mailgun',
        status: 400,
        url: '/v1/webhooks/mailgun?surveyId=bad%20id',
        body: mailgun(mail()),
        contentType: FORM,
      },
      {
        op: 'POST /v1/webhooks/mailgun',
        status: 403,
        url: `/v1/webhooks/mailgun?surveyId=${surveyId}`,
        body: mailgun(mail(), 'not-the-key'),
        contentType: FORM,
      },
      {
        op: 'POST /v1/webhooks/mailgun',
        status: 413,
        url: `/v1/webhooks/mailgun?surveyId=${surveyId}`,
        body: form({ 'body-plain': 'x'.repeat(1_100_000) }),
        contentType: FORM,
      },
      {
        op: 'POST /v1/webhooks/mailgun',
        status: 429,
        url: `/v1/webhooks/mailgun?surveyId=${surveyId}`,
        body: mailgun(mail(), 'not-the-key'),
        contentType: FORM,
        headers: limitedAddress(3),
        times: 2 * RATE_PER_IP + 3,
        sequential: true,
      },
      // Reads.
      ...read(
        'GET /v1/nps/live',
        `surveyId=${surveyId}&window=7d`,
        `surveyId=${surveyId}&window=2h`,
      ),
      ...read('GET /v1/nps/stream', `surveyId=${surveyId}`, `surveyId=${surveyId}&channel=fax`),
      ...read('GET /v1/nps/history', `${range}&groupBy=channel`, `${range}&interval=year`),
      ...read('GET /v1/surveys', '', '').filter((p) => p.status !== 400),
      ...read('GET /v1/nps/feed', `surveyId=${surveyId}`, `surveyId=${surveyId}&limit=0`),
      ...read(
        'GET /v1/nps/compare',
        `surveyId=${surveyId}&aFrom=${from}&aTo=${encodeURIComponent(iso(now))}&bFrom=${encodeURIComponent(iso(now))}&bTo=${encodeURIComponent(iso(now + 60_000))}`,
        `surveyId=${surveyId}&aFrom=${from}`,
      ),
      ...read('GET /v1/nps/themes', range, `surveyId=${surveyId}`),
      ...read('GET /v1/nps/terms', range, `${range}&compareTo=never`),
      ...read('GET /v1/nps/shifts', range, `${range}&channel=fax`),
      ...read('GET /v1/nps/funnel', range, `surveyId=${surveyId}&from=yesterday`),
      ...read('GET /v1/annotations', `surveyId=${surveyId}`, 'surveyId=a%20b'),
      ...read(
        'GET /v1/nps/impact',
        `annotationId=a-${surveyId}&days=7`,
        `annotationId=a-${surveyId}&days=0`,
      ),
      {
        op: 'GET /v1/nps/impact',
        status: 404,
        url: '/v1/nps/impact?annotationId=none',
        key: READ_KEY,
      },
      // Annotations.
      ...((): Probe[] => {
        const op = 'POST /v1/annotations';
        const given = { surveyId, at: iso(now - 3_600_000), label: 'New courier' };
        return [
          { op, status: 201, url: '/v1/annotations', key: ADMIN_KEY, body: json(given) },
          {
            op,
            status: 200,
            url: '/v1/annotations',
            key: ADMIN_KEY,
            body: json({ ...given, annotationId: `a-${surveyId}` }),
          },
          {
            op,
            status: 400,
            url: '/v1/annotations',
            key: ADMIN_KEY,
            body: json({ ...given, label: ' ' }),
          },
          { op, status: 401, url: '/v1/annotations', body: json(given) },
          { op, status: 403, url: '/v1/annotations', key: READ_KEY, body: json(given) },
          {
            op,
            status: 409,
            url: '/v1/annotations',
            key: ADMIN_KEY,
            body: json({ ...given, label: 'Other', annotationId: `a-${surveyId}` }),
          },
          { op, status: 413, url: '/v1/annotations', key: ADMIN_KEY, body: big(20_000) },
          {
            op,
            status: 415,
            url: '/v1/annotations',
            key: ADMIN_KEY,
            body: json(given),
            contentType: 'text/plain',
          },
        ];
      })(),
      ...((): Probe[] => {
        const op = 'DELETE /v1/annotations/{annotationId}';
        return [
          { op, status: 204, url: `/v1/annotations/${doomedId}`, key: ADMIN_KEY },
          { op, status: 400, url: '/v1/annotations/a%20b', key: ADMIN_KEY },
          { op, status: 401, url: `/v1/annotations/${doomedId}` },
          { op, status: 403, url: `/v1/annotations/${doomedId}`, key: READ_KEY },
          { op, status: 404, url: '/v1/annotations/none', key: ADMIN_KEY },
        ];
      })(),
      // Cases.
      ...((): Probe[] => {
        const list = 'GET /v1/cases';
        const summary = 'GET /v1/cases/summary';
        const one = 'GET /v1/cases/{caseId}';
        const patch = 'PATCH /v1/cases/{caseId}';
        const at = `/v1/cases/${caseId ?? ''}`;
        const key = { 'idempotency-key': `k-${surveyId}` };
        return [
          { op: list, status: 200, url: `/v1/cases?surveyId=${surveyId}&limit=1`, key: ADMIN_KEY },
          { op: list, status: 400, url: '/v1/cases?status=lost', key: ADMIN_KEY },
          { op: list, status: 401, url: '/v1/cases' },
          { op: list, status: 403, url: '/v1/cases', key: READ_KEY },
          { op: summary, status: 200, url: `/v1/cases/summary?${range}`, key: ADMIN_KEY },
          {
            op: summary,
            status: 400,
            url: `/v1/cases/summary?surveyId=${surveyId}`,
            key: ADMIN_KEY,
          },
          { op: summary, status: 401, url: `/v1/cases/summary?${range}` },
          { op: summary, status: 403, url: `/v1/cases/summary?${range}`, key: READ_KEY },
          { op: one, status: 200, url: at, key: ADMIN_KEY },
          { op: one, status: 400, url: '/v1/cases/nope', key: ADMIN_KEY },
          { op: one, status: 401, url: at },
          { op: one, status: 403, url: at, key: READ_KEY },
          { op: one, status: 404, url: `/v1/cases/${missingCase}`, key: ADMIN_KEY },
          { op: patch, status: 400, url: at, key: ADMIN_KEY, body: json({ status: 'lost' }) },
          { op: patch, status: 401, url: at, body: json({ note: 'Called' }) },
          { op: patch, status: 403, url: at, key: READ_KEY, body: json({ note: 'Called' }) },
          {
            op: patch,
            status: 404,
            url: `/v1/cases/${missingCase}`,
            key: ADMIN_KEY,
            body: json({ note: 'Called' }),
          },
          { op: patch, status: 413, url: at, key: ADMIN_KEY, body: big(70_000) },
          {
            op: patch,
            status: 415,
            url: at,
            key: ADMIN_KEY,
            body: json({ note: 'Called' }),
            contentType: 'text/plain',
          },
          // In order: the key's first change, then the same key for another change.
          {
            op: patch,
            status: 200,
            url: at,
            key: ADMIN_KEY,
            body: json({ status: 'contacted', note: 'Called' }),
            headers: key,
            sequential: true,
          },
          {
            op: patch,
            status: 409,
            url: at,
            key: ADMIN_KEY,
            body: json({ note: 'Another' }),
            headers: key,
            sequential: true,
          },
        ];
      })(),
      // Webhook subscriptions.
      ...((): Probe[] => {
        const create = 'POST /v1/subscriptions';
        const list = 'GET /v1/subscriptions';
        const remove = 'DELETE /v1/subscriptions/{id}';
        const deliveries = 'GET /v1/subscriptions/{id}/deliveries';
        const given = { url: 'http://127.0.0.1:9/x', events: ['response.detractor'], surveyId };
        const path = '/v1/subscriptions';
        return [
          { op: create, status: 201, url: path, key: ADMIN_KEY, body: json(given) },
          {
            op: create,
            status: 400,
            url: path,
            key: ADMIN_KEY,
            body: json({ ...given, events: [] }),
          },
          { op: create, status: 401, url: path, body: json(given) },
          { op: create, status: 403, url: path, key: READ_KEY, body: json(given) },
          { op: create, status: 413, url: path, key: ADMIN_KEY, body: big(70_000) },
          {
            op: create,
            status: 415,
            url: path,
            key: ADMIN_KEY,
            body: json(given),
            contentType: 'text/plain',
          },
          { op: list, status: 200, url: path, key: ADMIN_KEY },
          { op: list, status: 401, url: path },
          { op: list, status: 403, url: path, key: READ_KEY },
          { op: remove, status: 204, url: `${path}/${doomedSubscriptionId}`, key: ADMIN_KEY },
          { op: remove, status: 401, url: `${path}/${subscriptionId}` },
          { op: remove, status: 403, url: `${path}/${subscriptionId}`, key: READ_KEY },
          { op: remove, status: 404, url: `${path}/sub_none`, key: ADMIN_KEY },
          {
            op: deliveries,
            status: 200,
            url: `${path}/${subscriptionId}/deliveries?limit=5`,
            key: ADMIN_KEY,
          },
          {
            op: deliveries,
            status: 400,
            url: `${path}/${subscriptionId}/deliveries?limit=0`,
            key: ADMIN_KEY,
          },
          { op: deliveries, status: 401, url: `${path}/${subscriptionId}/deliveries` },
          {
            op: deliveries,
            status: 403,
            url: `${path}/${subscriptionId}/deliveries`,
            key: READ_KEY,
          },
          { op: deliveries, status: 404, url: `${path}/sub_none/deliveries`, key: ADMIN_KEY },
        ];
      })(),
      // Erasure.
      ...((): Probe[] => {
        const op = 'DELETE /v1/respondents/{respondentId}';
        return [
          { op, status: 200, url: '/v1/respondents/nobody%40example.com', key: ADMIN_KEY },
          { op, status: 400, url: '/v1/respondents/%20', key: ADMIN_KEY },
          { op, status: 401, url: '/v1/respondents/nobody' },
          { op, status: 403, url: '/v1/respondents/nobody', key: READ_KEY },
        ];
      })(),
      // Dashboard.
      { op: 'GET /', status: 200, url: '/' },
      { op: 'GET /session', status: 200, url: '/session' },
      {
        op: 'POST /session',
        status: 200,
        url: '/session',
        body: json({ apiKey: READ_KEY }),
        headers: origin,
      },
      {
        op: 'POST /session',
        status: 303,
        url: '/session',
        body: form({ apiKey: READ_KEY }),
        contentType: FORM,
        headers: origin,
      },
      {
        op: 'POST /session',
        status: 400,
        url: '/session',
        body: json({ apiKey: '' }),
        headers: origin,
      },
      {
        op: 'POST /session',
        status: 401,
        url: '/session',
        body: json({ apiKey: 'unknown' }),
        headers: origin,
      },
      { op: 'POST /session', status: 403, url: '/session', body: json({ apiKey: READ_KEY }) },
      { op: 'POST /session', status: 413, url: '/session', body: big(5_000), headers: origin },
      {
        op: 'POST /session',
        status: 429,
        url: '/session',
        body: json({ apiKey: 'unknown' }),
        headers: { ...origin, ...limitedAddress(4) },
        times: 2 * RATE_PER_IP + 3,
        sequential: true,
      },
      { op: 'DELETE /session', status: 204, url: '/session', headers: origin },
      { op: 'DELETE /session', status: 403, url: '/session' },
      // Operations.
      { op: 'GET /healthz', status: 200, url: '/healthz' },
      { op: 'GET /readyz', status: 200, url: '/readyz' },
      { op: 'GET /metrics', status: 200, url: '/metrics' },
      { op: 'GET /openapi.json', status: 200, url: '/openapi.json' },
    ];

    // Every documented answer is exercised or named as not exercised, and nothing else is named.
    const documentedAnswers = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, op]) =>
        Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
    const exercised = new Set(probes.map((p) => `${p.op} ${p.status}`));
    expect(documentedAnswers.filter((a) => !exercised.has(a) && !(a in NOT_EXERCISED))).toEqual([]);
    expect([...exercised].filter((a) => !documentedAnswers.includes(a))).toEqual([]);
    expect(Object.keys(NOT_EXERCISED).filter((a) => !documentedAnswers.includes(a))).toEqual([]);

    // Independent probes at once; the ones that depend on order one after the other.
    const run = async (p: Probe): Promise<string[]> => {
      let got = await send(url, p);
      for (let n = 1; n < (p.times ?? 1); n++) got = await send(url, p);
      return conformance(ajv, doc, p, got).map(
        (m) => `${p.op} (${p.status}) ${m}: ${got.text.slice(0, 300)}`,
      );
    };
    const failures = (await Promise.all(probes.filter((p) => !p.sequential).map(run))).flat();
    for (const p of probes.filter((q) => q.sequential)) failures.push(...(await run(p)));
    expect(failures).toEqual([]);
  });
});
