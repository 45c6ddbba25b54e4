import { randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFinished } from 'vitest';
import { childEnv, exited, startChild } from '../support/child.js';
import { kafka, redis } from '../support/services.js';
import type { Child } from '../support/child.js';
import { batch } from '../support/counts.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  PUBLIC_BASE_URL,
  api,
  cleanupPipeline,
  eventually,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

interface Received {
  readonly webhookId: string;
  readonly status: number;
  readonly at: number;
  readonly body: { type: string; timestamp: string; data: Record<string, unknown> } & Record<
    string,
    unknown
  >;
}

/**
 * A webhook receiver on loopback. Every request is verified with the standardwebhooks package
 * against the secret the test gives it; `answer` picks the status (and headers) per request.
 */
async function receiver(
  answer: (body: Received['body']) => {
    status: number;
    headers?: Record<string, string>;
  } = () => ({
    status: 200,
  }),
) {
  const received: Received[] = [];
  const unverified: string[] = [];
  let secret = '';
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const headers = req.headers as IncomingHttpHeaders & Record<string, string>;
      try {
        new Webhook(secret).verify(raw, headers);
      } catch (error) {
        unverified.push(`${String(headers['webhook-id'])}: ${String(error)}`);
      }
      const body = JSON.parse(raw) as Received['body'];
      const { status, headers: extra } = answer(body);
      received.push({ webhookId: String(headers['webhook-id']), status, at: Date.now(), body });
      // Status 0: never answer (the connection is cut when the test ends).
      if (status !== 0) res.writeHead(status, extra).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    unverified,
    useSecret: (s: string) => {
      secret = s;
    },
    /** Distinct webhook-ids answered 2xx, of one event type (any type for Slack's bodies). */
    delivered: (type?: string) =>
      new Set(
        received
          .filter((r) => r.status < 300 && (type === undefined || r.body.type === type))
          .map((r) => r.webhookId),
      ),
  };
}

async function subscribe(
  url: string,
  body: Record<string, unknown>,
): Promise<{ subscriptionId: string; secret: string }> {
  const res = await api(url, '/v1/subscriptions', { key: ADMIN_KEY, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { subscriptionId: string; secret: string };
}

const detractorsOf = (scores: readonly number[]) => scores.filter((s) => s <= 6).length;

const WEBHOOK_ENV = { NPS_WEBHOOK_ALLOW_HTTP: '1', NPS_WEBHOOK_ALLOW_PRIVATE: '1' };

/** `eventually` polls promises; these checks read what the receiver holds already. */
const polled =
  <T>(read: () => T) =>
  () =>
    Promise.resolve(read());

describe('outbound webhooks', () => {
  it('every response reaches a subscriber once per webhook-id, signed to the Standard Webhooks spec, with the payload the issue fixes', async () => {
    const pipeline = await startPipeline(['ingest', 'process', 'api', 'deliver'], {
      ...pipelineEnv(),
      ...WEBHOOK_ENV,
    });
    const hook = await receiver();
    const slack = await receiver();
    const other = await receiver();
    const surveyId = uniqueName('hooks');
    const sub = await subscribe(pipeline.url, {
      url: hook.url,
      events: ['response.created', 'response.detractor'],
    });
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    hook.useSecret(sub.secret);
    const slackSub = await subscribe(pipeline.url, {
      url: slack.url,
      events: ['response.detractor'],
      surveyId,
      format: 'slack',
    });
    slack.useSecret(slackSub.secret);
    // Another survey's subscription gets nothing of this one.
    other.useSecret(
      (
        await subscribe(pipeline.url, {
          url: other.url,
          events: ['response.created'],
          surveyId: uniqueName('elsewhere'),
        })
      ).secret,
    );
    const listed = await api(pipeline.url, '/v1/subscriptions', { key: ADMIN_KEY });
    expect(listed.body.subscriptions).toHaveLength(3);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');

    const responses = batch(surveyId, 0, 44).map((r, i) =>
      i === 3
        ? {
            ...r,
            comment: 'Pakken kom alt for sent',
            locale: 'da-DK',
            respondentId: 'kunde7@example.com',
            segment: { plan: 'pro' },
          }
        : r,
    );
    const posted = await api(pipeline.url, '/v1/responses', { key: INGEST_KEY, body: responses });
    expect(posted.status).toBe(202);
    const detractors = detractorsOf(responses.map((r) => r.score));

    await eventually(
      polled(() => [
        hook.delivered('response.created').size,
        hook.delivered('response.detractor').size,
      ]),
      ([c, d]) => c === responses.length && d === detractors,
    );
    await eventually(
      polled(() => slack.delivered().size),
      (n) => n === detractors,
    );
    expect(hook.unverified).toEqual([]);
    expect(slack.unverified).toEqual([]);
    expect(other.received).toEqual([]);
    // One webhook-id per (type, response): a repeat delivery would only repeat an id.
    const pairs = new Set(
      hook.received.map((r) => `${r.body.type}/${String(r.body.data.responseId)}`),
    );
    expect(pairs.size).toBe(responses.length + detractors);

    const third = hook.received.find(
      (r) => r.body.type === 'response.detractor' && r.body.data.responseId === 'r-3',
    );
    expect(third?.body).toMatchObject({
      type: 'response.detractor',
      data: {
        responseId: 'r-3',
        surveyId,
        channel: 'web',
        score: 3,
        category: 'detractor',
        comment: 'Pakken kom alt for sent',
        language: 'da',
        themes: ['delivery'],
        segment: { plan: 'pro' },
      },
    });
    expect(third?.body.data.respondentId).toMatch(/./);
    expect(third?.body.data.respondentId).not.toContain('example.com');
    expect(third?.body.data.caseId).toMatch(/^case_/);
    expect(Object.keys(third?.body ?? {}).sort()).toEqual(['data', 'timestamp', 'type']);
    const promoter = hook.received.find((r) => r.body.data.responseId === 'r-9');
    expect(promoter?.body.data).toMatchObject({ category: 'promoter', caseId: null });

    const slackThird = slack.received.find((r) => String(r.body.text).includes('Pakken'));
    expect(slackThird?.body.text).toContain('Ny kritiker: 3/10');
    expect(slackThird?.body.text).toContain(`${PUBLIC_BASE_URL}/#/cases/case_`);
    expect(slackThird?.body.blocks).toBeInstanceOf(Array);

    const log = await eventually(
      async () =>
        (
          await api(pipeline.url, `/v1/subscriptions/${sub.subscriptionId}/deliveries?limit=1000`, {
            key: ADMIN_KEY,
          })
        ).body as { deliveries: { webhookId: string; status: number; outcome: string }[] },
      (b) => b.deliveries.length >= responses.length + detractors,
    );
    expect(new Set(log.deliveries.map((d) => d.webhookId))).toEqual(
      new Set(hook.received.map((r) => r.webhookId)),
    );
    expect(log.deliveries.every((d) => d.status === 200 && d.outcome === 'delivered')).toBe(true);

    // Deleted: listed no more, and later responses are not sent to it.
    const deleted = await api(pipeline.url, `/v1/subscriptions/${sub.subscriptionId}`, {
      key: ADMIN_KEY,
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
    const after = await api(pipeline.url, '/v1/subscriptions', { key: ADMIN_KEY });
    expect(after.body.subscriptions).toHaveLength(2);
    // A detractor after the deletion reaches the Slack subscription, not the deleted one.
    const before = hook.received.length;
    expect(
      (
        await api(pipeline.url, '/v1/responses', {
          key: INGEST_KEY,
          body: { surveyId, score: 0, responseId: 'after-delete' },
        })
      ).status,
    ).toBe(202);
    await eventually(
      polled(() => slack.delivered().size),
      (n) => n === detractors + 1,
    );
    expect(hook.received.length).toBe(before);
  });

  it(
    'a receiver answering 500 for 30 s, then 200, gets every event, its Retry-After honoured',
    { timeout: 90_000 },
    async () => {
      const pipeline = await startPipeline(['ingest', 'process', 'api', 'deliver'], {
        ...pipelineEnv(),
        ...WEBHOOK_ENV,
        NPS_WEBHOOK_BACKOFF_MS: '100',
      });
      let failUntil = Number.POSITIVE_INFINITY;
      const hook = await receiver(() =>
        Date.now() < failUntil ? { status: 500, headers: { 'retry-after': '2' } } : { status: 200 },
      );
      const sub = await subscribe(pipeline.url, { url: hook.url, events: ['response.detractor'] });
      hook.useSecret(sub.secret);
      failUntil = Date.now() + 30_000;
      const surveyId = uniqueName('outage');
      const responses = batch(surveyId, 0, 33);
      expect(
        (await api(pipeline.url, '/v1/responses', { key: INGEST_KEY, body: responses })).status,
      ).toBe(202);
      const detractors = detractorsOf(responses.map((r) => r.score));

      await eventually(
        polled(() => hook.delivered('response.detractor').size),
        (n) => n === detractors,
        60_000,
      );
      expect(hook.unverified).toEqual([]);
      const byId = new Map<string, Received[]>();
      for (const r of hook.received) byId.set(r.webhookId, [...(byId.get(r.webhookId) ?? []), r]);
      expect(byId.size).toBe(detractors);
      for (const attempts of byId.values()) {
        // Failed first, then retried no sooner than the receiver asked (2 s), though the backoff
        // alone would have retried after 100-200 ms.
        expect(attempts[0]?.status).toBe(500);
        for (let i = 1; i < attempts.length; i++) {
          expect((attempts[i]?.at ?? 0) - (attempts[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(2000);
        }
      }
    },
  );

  it('a delivery failing for the whole retry window goes to the dead-letter topic, and the log says so', async () => {
    const pipeline = await startPipeline(['ingest', 'process', 'api', 'deliver'], {
      ...pipelineEnv(),
      ...WEBHOOK_ENV,
      NPS_WEBHOOK_BACKOFF_MS: '200',
      NPS_WEBHOOK_RETRY_HOURS: String(3 / 3600),
    });
    const hook = await receiver(() => ({ status: 500 }));
    const sub = await subscribe(pipeline.url, { url: hook.url, events: ['response.detractor'] });
    hook.useSecret(sub.secret);
    const surveyId = uniqueName('dead');
    expect(
      (
        await api(pipeline.url, '/v1/responses', {
          key: INGEST_KEY,
          body: { surveyId, score: 1, responseId: 'never-taken' },
        })
      ).status,
    ).toBe(202);

    const consumer = kafka().consumer({ groupId: uniqueName('events-dlq-reader') });
    await consumer.connect();
    onTestFinished(() => consumer.disconnect());
    await consumer.subscribe({
      topic: pipeline.config.eventsDeadLetterTopic,
      fromBeginning: true,
    });
    const dead = await new Promise<{
      subscriptionId: string;
      event: { data: { responseId: string } };
    }>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          resolve(JSON.parse(message.value?.toString() ?? '{}') as never);
          return Promise.resolve();
        },
      });
    });
    expect(dead.subscriptionId).toBe(sub.subscriptionId);
    expect(dead.event.data.responseId).toBe('never-taken');
    expect(hook.received.length).toBeGreaterThan(1);
    expect(new Set(hook.received.map((r) => r.webhookId)).size).toBe(1);
    const log = await eventually(
      async () =>
        (
          (
            await api(pipeline.url, `/v1/subscriptions/${sub.subscriptionId}/deliveries`, {
              key: ADMIN_KEY,
            })
          ).body as { deliveries: { outcome: string; status: number }[] }
        ).deliveries,
      (d) => d.some((a) => a.outcome === 'dead-lettered'),
    );
    expect(log.every((a) => a.status === 500)).toBe(true);
    const attempts = hook.received.length;
    await sleep(1000);
    expect(hook.received.length).toBe(attempts);
  });

  it('a receiver that never answers delays no other subscription', async () => {
    const pipeline = await startPipeline(['ingest', 'process', 'api', 'deliver'], {
      ...pipelineEnv(),
      ...WEBHOOK_ENV,
      // Longer than the test may wait: the stuck attempts never time out while it runs.
      NPS_WEBHOOK_TIMEOUT_MS: '60000',
    });
    const stuck = await receiver(() => ({ status: 0 }));
    const healthy = await receiver();
    stuck.useSecret(
      (await subscribe(pipeline.url, { url: stuck.url, events: ['response.created'] })).secret,
    );
    healthy.useSecret(
      (await subscribe(pipeline.url, { url: healthy.url, events: ['response.created'] })).secret,
    );
    const surveyId = uniqueName('stuck');
    for (let from = 0; from < 60; from += 20) {
      const res = await api(pipeline.url, '/v1/responses', {
        key: INGEST_KEY,
        body: batch(surveyId, from, 20),
      });
      expect(res.status).toBe(202);
    }
    await eventually(
      polled(() => healthy.delivered('response.created').size),
      (n) => n === 60,
    );
    expect(healthy.unverified).toEqual([]);
    expect(stuck.received.length).toBeGreaterThan(0);
  });

  it('refuses subscription URLs that reach loopback, link-local or metadata addresses, and http, without the allow settings', async () => {
    const pipeline = await startPipeline(['api']);
    for (const url of [
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://localhost/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::ffff:169.254.169.254]/',
      'https://10.0.0.1/hook',
      'http://8.8.8.8/hook',
      'ftp://example.com/',
    ]) {
      const res = await api(pipeline.url, '/v1/subscriptions', {
        key: ADMIN_KEY,
        body: { url, events: ['response.created'] },
      });
      expect(res.status, url).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(
        (res.body.errors as { field: string }[]).map((e) => e.field),
        url,
      ).toEqual(['url']);
    }
    const bad = await api(pipeline.url, '/v1/subscriptions', {
      key: ADMIN_KEY,
      body: { url: 'https://8.8.8.8/', events: ['response.nope'], format: 'teams' },
    });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'events',
      'format',
    ]);
    const listed = await api(pipeline.url, '/v1/subscriptions', { key: ADMIN_KEY });
    expect(listed.body.subscriptions).toEqual([]);
  });

  it(
    "erasure removes a respondent's queued events and their delivery attempts; they are never delivered",
    { timeout: 90_000 },
    async () => {
      const pipeline = await startPipeline(['ingest', 'process', 'api', 'deliver'], {
        ...pipelineEnv(),
        ...WEBHOOK_ENV,
        NPS_WEBHOOK_BACKOFF_MS: '300',
      });
      let failing = true;
      const hook = await receiver(() => ({ status: failing ? 503 : 200 }));
      const sub = await subscribe(pipeline.url, { url: hook.url, events: ['response.created'] });
      hook.useSecret(sub.secret);
      const surveyId = uniqueName('erase');
      const posted = await api(pipeline.url, '/v1/responses', {
        key: INGEST_KEY,
        body: [
          { surveyId, score: 2, responseId: 'gone', respondentId: 'erase-me@example.com' },
          { surveyId, score: 9, responseId: 'kept' },
        ],
      });
      expect(posted.status).toBe(202);
      const attemptsOf = async () =>
        (
          (
            await api(pipeline.url, `/v1/subscriptions/${sub.subscriptionId}/deliveries`, {
              key: ADMIN_KEY,
            })
          ).body as { deliveries: { eventId: string }[] }
        ).deliveries;
      // Both failed at least once, and those attempts are logged.
      await eventually(
        polled(() => new Set(hook.received.map((r) => r.body.data.responseId)).size),
        (n) => n === 2,
      );
      await eventually(attemptsOf, (d) => d.length >= 2);

      const erased = await api(pipeline.url, '/v1/respondents/erase-me@example.com', {
        key: ADMIN_KEY,
        method: 'DELETE',
      });
      expect(erased.status).toBe(200);
      // The eraser removes the queued job, unless the deliverer saw the erasure mark first and
      // withheld it: either way it is gone, which is what is checked below.
      expect([0, 1]).toContain(erased.body.queuedEventsRemoved);
      expect(erased.body.deliveryAttemptsDeleted).toBeGreaterThanOrEqual(1);
      // Nothing of theirs is left in the retry schedule (its jobs hash holds each job's event).
      const { client } = await redis();
      const queued = await client.hvals(`${pipeline.env.NPS_REDIS_PREFIX ?? ''}webhooks:jobs`);
      expect(queued.filter((job) => job.includes('"responseId":"gone"'))).toEqual([]);
      expect(queued.filter((job) => job.includes('"responseId":"kept"'))).toHaveLength(1);
      failing = false;
      await eventually(
        polled(() => hook.delivered('response.created').size),
        (n) => n === 1,
      );
      // A few more retry periods: nothing of the erased respondent comes.
      await sleep(3000);
      const delivered = hook.received.filter((r) => r.status === 200);
      expect(delivered.map((r) => r.body.data.responseId)).toEqual(['kept']);
      const erasedIds = new Set(
        hook.received.filter((r) => r.body.data.responseId === 'gone').map((r) => r.webhookId),
      );
      expect(erasedIds.size).toBe(1);
      const logged = await attemptsOf();
      expect(logged.length).toBeGreaterThan(0);
      const log = (
        await api(pipeline.url, `/v1/subscriptions/${sub.subscriptionId}/deliveries`, {
          key: ADMIN_KEY,
        })
      ).body as { deliveries: { webhookId: string }[] };
      expect(log.deliveries.filter((d) => erasedIds.has(d.webhookId))).toEqual([]);
    },
  );

  it(
    'kill -9 of the processor and the deliverer during a stream: exactly one distinct webhook-id per detractor and per response',
    { timeout: 240_000 },
    async () => {
      const TOTAL = 6000;
      const BATCH = 200;
      const KILLS = 3;
      const env = childEnv({ ...pipelineEnv(), ...WEBHOOK_ENV, NPS_WEBHOOK_BACKOFF_MS: '200' });
      cleanupPipeline(env);
      const hook = await receiver();
      const ingest = await startChild(['--roles', 'ingest'], env);
      let worker: Child = await startChild(['--roles', 'process,api,deliver'], env);
      const sub = await subscribe(worker.url, {
        url: hook.url,
        events: ['response.created', 'response.detractor'],
      });
      hook.useSecret(sub.secret);
      const surveyId = uniqueName('hookcrash');

      let sent = 0;
      const streaming = (async () => {
        for (let from = 0; from < TOTAL; from += BATCH) {
          const res = await api(ingest.url, '/v1/responses', {
            key: INGEST_KEY,
            body: batch(surveyId, from, BATCH),
          });
          expect(res.status).toBe(202);
          sent = from + BATCH;
          await sleep(250);
        }
      })();
      const kills: string[] = [];
      for (let k = 0; k < KILLS; k++) {
        await sleep(randomInt(1500, 4000));
        kills.push(`after ${sent} sent`);
        worker.process.kill('SIGKILL');
        await exited(worker.process);
        await sleep(randomInt(0, 1000));
        worker = await startChild(['--roles', 'process,api,deliver'], env);
      }
      await streaming;

      const scores = Array.from({ length: TOTAL }, (_, i) => i % 11);
      const context = `kills: ${kills.join(', ')}`;
      await eventually(
        polled(() => [
          hook.delivered('response.created').size,
          hook.delivered('response.detractor').size,
        ]),
        ([c = 0, d = 0]) => c >= TOTAL && d >= detractorsOf(scores),
        120_000,
      ).catch((error: unknown) => {
        console.log(worker.output().slice(-3000));
        throw error;
      });
      expect(hook.unverified, context).toEqual([]);
      expect(hook.delivered('response.created').size, context).toBe(TOTAL);
      expect(hook.delivered('response.detractor').size, context).toBe(detractorsOf(scores));
      // Each webhook-id stands for one (type, response), and each (type, response) has one id.
      const idsOf = new Map<string, Set<string>>();
      for (const r of hook.received) {
        const key = `${r.body.type}/${String(r.body.data.responseId)}`;
        idsOf.set(key, (idsOf.get(key) ?? new Set()).add(r.webhookId));
      }
      expect(idsOf.size, context).toBe(TOTAL + detractorsOf(scores));
      expect(
        [...idsOf.values()].every((ids) => ids.size === 1),
        context,
      ).toBe(true);
      const responseIds = new Set(
        hook.received
          .filter((r) => r.body.type === 'response.detractor')
          .map((r) => r.body.data.responseId),
      );
      expect(responseIds, context).toEqual(
        new Set(scores.flatMap((s, i) => (s <= 6 ? [`r-${i}`] : []))),
      );
    },
  );

  it('a detractor event names the case it opened, and a change to that case reaches subscribers as case.updated', async () => {
    const pipeline = await startPipeline(['ingest', 'process', 'api', 'deliver'], {
      ...pipelineEnv(),
      ...WEBHOOK_ENV,
    });
    const hook = await receiver();
    const surveyId = uniqueName('hook-cases');
    const sub = await subscribe(pipeline.url, {
      url: hook.url,
      events: ['response.detractor', 'case.updated'],
      surveyId,
    });
    hook.useSecret(sub.secret);
    const posted = await api(pipeline.url, '/v1/responses', {
      key: INGEST_KEY,
      body: [
        { surveyId, responseId: 'angry', score: 2, comment: 'Pakken kom aldrig' },
        { surveyId, responseId: 'happy', score: 10 },
      ],
    });
    expect(posted.status).toBe(202);
    await eventually(
      polled(() => hook.delivered('response.detractor').size),
      (n) => n === 1,
    );
    const detractor = hook.received.find((r) => r.body.type === 'response.detractor');
    expect(detractor?.body.data).toMatchObject({ responseId: 'angry', score: 2 });
    const caseId = String(detractor?.body.data.caseId);
    // The case the event names exists, for the same response.
    const opened = await eventually(
      () => api(pipeline.url, `/v1/cases/${caseId}`, { key: ADMIN_KEY }),
      (res) => res.status === 200,
    );
    expect(opened.body).toMatchObject({ caseId, responseId: 'angry', status: 'open' });

    const patched = await api(pipeline.url, `/v1/cases/${caseId}`, {
      key: ADMIN_KEY,
      method: 'PATCH',
      body: { status: 'contacted', note: 'Ringet op, ny pakke sendt' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await eventually(
      polled(() => hook.delivered('case.updated').size),
      (n) => n === 1,
    );
    const updated = hook.received.find((r) => r.body.type === 'case.updated');
    expect(updated?.body.data).toMatchObject({ caseId, status: 'contacted' });
    expect(hook.unverified).toEqual([]);
  });
});
