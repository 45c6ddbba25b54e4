import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/config.js';
import { uncommitted } from '../../src/kafka/topics.js';
import { pseudonymize } from '../../src/domain/pseudonym.js';
import { invitationGroup } from '../../src/stream/invitation-sink.js';
import { childEnv, startChild } from '../support/child.js';
import type { Child } from '../support/child.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  eventually,
  pipelineEnv,
  resetWhenReleased,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';
import { clickhouse, kafkaAdmin } from '../support/services.js';

const DAY = 24 * 3_600_000;
const RECONTACT_MS = 30 * DAY; // NPS_RECONTACT_DAYS default

interface Created {
  invitationId: string;
  token: string;
  url: string;
  expiresAt: string;
}

interface Funnel {
  stages: { invited: number; opened: number; responded: number; commented: number };
  responseRate: {
    rate: number | null;
    low: number | null;
    high: number | null;
    marginOfError: number | null;
    invited: number;
    lowSample: boolean;
  };
  responders: {
    responses: number;
    promoters: number;
    passives: number;
    detractors: number;
    nps: number | null;
  };
}

/** Waits until the invitation sink has committed every fact on the invitations topic. */
async function invitationsDrained(config: Config, brokers?: readonly string[]): Promise<void> {
  const admin = await kafkaAdmin(brokers);
  await eventually(
    () => uncommitted(admin, config.invitationTopic, invitationGroup(config.consumerGroup)),
    (n) => n === 0,
    60_000,
  );
}

async function funnel(url: string, query: string): Promise<Funnel> {
  const from = new Date(Date.now() - DAY).toISOString();
  const { status, body } = await api(url, `/v1/nps/funnel?from=${from}&${query}`, {
    key: READ_KEY,
  });
  expect(status, JSON.stringify(body)).toBe(200);
  return body as unknown as Funnel;
}

/**
 * The Wilson bounds found another way: the two p where the score statistic
 * |k/n - p| / sqrt(p(1-p)/n) equals 1.96, by bisection on each side of k/n.
 */
function wilsonByBisection(k: number, n: number): { low: number; high: number } {
  const p0 = k / n;
  const excess = (p: number) => Math.abs(p0 - p) - 1.96 * Math.sqrt((p * (1 - p)) / n);
  const solve = (a: number, b: number) => {
    // excess(a) > 0 >= excess(b) or the other way round.
    const sign = excess(a) > 0;
    for (let i = 0; i < 100; i++) {
      const m = (a + b) / 2;
      if (excess(m) > 0 === sign) a = m;
      else b = m;
    }
    return (a + b) / 2;
  };
  return { low: k === 0 ? 0 : solve(0, p0), high: k === n ? 1 : solve(p0, 1) };
}

const erase = (url: string, respondentId: string) =>
  api(url, `/v1/respondents/${encodeURIComponent(respondentId).replaceAll('.', '%2E')}`, {
    method: 'DELETE',
    key: ADMIN_KEY,
  });

describe('invitations, response-rate funnel and recontact', () => {
  it('counts invitations, first opens, answers and comments exactly, beside the NPS of those who answered; throttles recontacts with throttledUntil', async () => {
    const env = pipelineEnv();
    const { url, config } = await startPipeline(undefined, env);
    const surveyId = uniqueName('funnel');
    const invite = (body: Record<string, unknown>) =>
      api(url, '/v1/invitations', { key: INGEST_KEY, body: { surveyId, ...body } });

    const before = Date.now();
    const a = await invite({
      invitationId: 'inv-a',
      channel: 'email',
      respondentId: 'anna@example.dk',
      segment: { plan: 'pro' },
    });
    const after = Date.now();
    expect(a.status).toBe(201);
    const b = await invite({ channel: 'web' });
    const c = await invite({ channel: 'sms', respondentId: 'crm-3' });
    expect([b.status, c.status]).toEqual([201, 201]);
    const A = a.body as unknown as Created;
    const B = b.body as unknown as Created;

    // A retry with the same id is the same invitation, not throttled by its own first attempt.
    const retry = await invite({
      invitationId: 'inv-a',
      channel: 'email',
      respondentId: 'anna@example.dk',
      segment: { plan: 'pro' },
    });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ invitationId: 'inv-a', token: A.token, url: A.url });
    // The same id for another invitation is refused.
    expect((await invite({ invitationId: 'inv-a', channel: 'sms' })).status).toBe(409);
    // Anna again within NPS_RECONTACT_DAYS, on another channel: 409 until 30 days after.
    const again = await invite({ channel: 'sms', respondentId: 'ANNA@example.dk ' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    const until = Date.parse(String(again.body.throttledUntil));
    expect(until).toBeGreaterThanOrEqual(before + RECONTACT_MS);
    expect(until).toBeLessThanOrEqual(after + RECONTACT_MS);

    // A bad item refuses the whole batch, naming it; nothing of it is recorded.
    const bad = await api(url, '/v1/invitations/batch', {
      key: INGEST_KEY,
      body: [
        { surveyId, channel: 'web', invitationId: 'inv-never' },
        { surveyId, channel: 'fax' },
      ],
    });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { field: string }[]).map((e) => e.field)).toEqual(['[1].channel']);

    const batch = await api(url, '/v1/invitations/batch', {
      key: INGEST_KEY,
      body: [
        { surveyId, channel: 'web', invitationId: 'inv-d', segment: { plan: 'pro' } },
        { surveyId, channel: 'sms', respondentId: 'erik@example.se' },
        { surveyId, channel: 'email', respondentId: 'crm-3' }, // C was sent minutes ago
        { surveyId, channel: 'email', respondentId: 'erik@example.se' }, // two lines above
        { surveyId, channel: 'email', respondentId: 'hanne@example.no', invitationId: 'inv-h' },
      ],
    });
    expect(batch.status).toBe(200);
    const items = batch.body.items as { status: string; token?: string; throttledUntil?: string }[];
    expect(items.map((i) => i.status)).toEqual([
      'created',
      'created',
      'throttled',
      'throttled',
      'created',
    ]);
    expect(Date.parse(items[2]?.throttledUntil ?? '')).toBeGreaterThan(Date.now() + 29 * DAY);
    const D = items[0] as { token: string };
    // The refused batch recorded nothing: its id is free.
    expect((await invite({ channel: 'web', invitationId: 'inv-never' })).status).toBe(201);

    // Opens: a scanner opening every score link of A, and one open each of B and D.
    for (let n = 0; n <= 10; n++) {
      expect((await fetch(`${A.url}?score=${n}`.replace(/^https:\/\/[^/]+/, url))).status).toBe(
        200,
      );
    }
    for (const token of [B.token, D.token]) {
      expect((await fetch(`${url}/v1/r/${token}`)).status).toBe(200);
    }

    // Answers: A by the form (with comment), B by JSON with responseId = its invitation id, D by
    // the link as JSON with a comment, Hanne by a campaign reply (same respondent and channel).
    const form = await fetch(`${url}/v1/r/${A.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ score: '4', comment: 'For dyrt' }).toString(),
    });
    expect(form.status).toBe(200);
    expect(
      (
        await api(url, '/v1/responses', {
          key: INGEST_KEY,
          body: [
            { surveyId, responseId: B.invitationId, score: 10 },
            { surveyId, respondentId: 'hanne@example.no', channel: 'email', score: 7 },
            // Not invited: counts in no funnel, but marks Vera as contacted 3 days ago.
            {
              surveyId,
              respondentId: 'crm-vera',
              score: 9,
              respondedAt: new Date(before - 3 * DAY).toISOString(),
            },
          ],
        })
      ).status,
    ).toBe(202);
    expect(
      (await api(url, `/v1/r/${D.token}`, { body: { score: 9, comment: 'Fint' } })).status,
    ).toBe(202);
    await drained(config);
    await invitationsDrained(config);

    // Invited: A, B, C, D, Erik's sms, Hanne, inv-never = 7; opened A, B, D; responded A, B, D,
    // Hanne; commented A, D. Responders: A 4 (detractor), B 10 and D 9 (promoters), Hanne 7.
    const all = await funnel(url, `surveyId=${surveyId}`);
    expect(all.stages).toEqual({ invited: 7, opened: 3, responded: 4, commented: 2 });
    expect(all.responders).toMatchObject({
      responses: 4,
      promoters: 2,
      passives: 1,
      detractors: 1,
      nps: 25,
    });
    const bounds = wilsonByBisection(4, 7);
    expect(all.responseRate).toMatchObject({ invited: 7, lowSample: true, rate: 57.1 });
    expect(all.responseRate.low).toBeCloseTo(100 * bounds.low, 1);
    expect(all.responseRate.high).toBeCloseTo(100 * bounds.high, 1);
    expect(all.responseRate.marginOfError).toBeCloseTo((100 * (bounds.high - bounds.low)) / 2, 1);

    // By channel (email: A and Hanne) and by segment (plan=pro: A and D).
    expect((await funnel(url, `surveyId=${surveyId}&channel=email`)).stages).toEqual({
      invited: 2,
      opened: 1,
      responded: 2,
      commented: 1,
    });
    expect((await funnel(url, `surveyId=${surveyId}&segment.plan=pro`)).stages).toEqual({
      invited: 2,
      opened: 2,
      responded: 2,
      commented: 2,
    });
    const badQuery = await api(url, `/v1/nps/funnel?surveyId=${surveyId}&from=yesterday`, {
      key: READ_KEY,
    });
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.detail).toContain('from');

    // The answer through A's link carries A's segment.
    const rows = await (
      await clickhouse().query({
        query: `SELECT segment FROM {db:Identifier}.responses WHERE response_id = 'inv-a'`,
        query_params: { db: config.clickhouseDatabase },
        format: 'JSONEachRow',
      })
    ).json<{ segment: Record<string, string> }>();
    expect(rows.map((r) => r.segment)).toEqual([{ plan: 'pro' }]);

    // An answer counts as a contact: Vera, who answered 3 days ago, is not invited until 27 days on.
    const vera = await invite({ channel: 'email', respondentId: 'crm-vera' });
    expect(vera.status).toBe(409);
    expect(vera.body.throttledUntil).toBe(new Date(before - 3 * DAY + RECONTACT_MS).toISOString());
  });

  it('erasure removes invitations, their funnel entries and recontact marks, and a replay does not bring them back', async () => {
    const env = pipelineEnv();
    const pipeline = await startPipeline(undefined, env);
    const { url, config } = pipeline;
    const surveyId = uniqueName('funnel-erase');
    const kari = 'Kari.Nordmann@example.no';
    const created = await api(url, '/v1/invitations', {
      key: INGEST_KEY,
      body: { surveyId, channel: 'email', respondentId: kari },
    });
    expect(created.status).toBe(201);
    const { token } = created.body as unknown as Created;
    const other = await api(url, '/v1/invitations', {
      key: INGEST_KEY,
      body: { surveyId, channel: 'email', respondentId: 'crm-42' },
    });
    expect(other.status).toBe(201);
    expect((await fetch(`${url}/v1/r/${token}`)).status).toBe(200);
    expect((await api(url, `/v1/r/${token}`, { body: { score: 2, comment: 'Nej' } })).status).toBe(
      202,
    );
    await drained(config);
    await invitationsDrained(config);
    expect((await funnel(url, `surveyId=${surveyId}`)).stages).toEqual({
      invited: 2,
      opened: 1,
      responded: 1,
      commented: 1,
    });

    const erased = await erase(url, kari);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ invitationsDeleted: 1, recontactMarksDeleted: 1 });
    const stored = async (base: string) => {
      const rows = await (
        await clickhouse().query({
          query: `SELECT count() AS n FROM {db:Identifier}.invitations
                  WHERE respondent_id = {r:String}`,
          query_params: {
            db: config.clickhouseDatabase,
            r: pseudonymize(config.pseudonymKey, kari) ?? '',
          },
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>();
      expect(rows).toEqual([{ n: '0' }]);
      expect((await funnel(base, `surveyId=${surveyId}`)).stages).toEqual({
        invited: 1,
        opened: 0,
        responded: 0,
        commented: 0,
      });
    };
    await stored(url);

    // A full replay of both topics: the erased invitation is not written again.
    await pipeline.close();
    const admin = await kafkaAdmin();
    await admin.resetOffsets({
      groupId: config.consumerGroup,
      topic: config.topic,
      earliest: true,
    });
    await admin.resetOffsets({
      groupId: invitationGroup(config.consumerGroup),
      topic: config.invitationTopic,
      earliest: true,
    });
    const replayed = await startPipeline(undefined, env);
    await drained(config, 60_000);
    await invitationsDrained(config);
    await stored(replayed.url);

    // The mark is gone: Kari may be invited again.
    expect(
      (
        await api(replayed.url, '/v1/invitations', {
          key: INGEST_KEY,
          body: { surveyId, channel: 'sms', respondentId: kari },
        })
      ).status,
    ).toBe(201);
  });

  it('with NPS_RECONTACT_DAYS=0 nobody is throttled, and a reply counts for one invitation only: the latest before it, same channel', async () => {
    const env = { ...pipelineEnv(), NPS_RECONTACT_DAYS: '0' };
    const { url, config } = await startPipeline(undefined, env);
    const surveyId = uniqueName('funnel-reply');
    for (const channel of ['email', 'email', 'sms']) {
      const created = await api(url, '/v1/invitations', {
        key: INGEST_KEY,
        body: { surveyId, channel, respondentId: 'ola@example.no' },
      });
      expect(created.status).toBe(201);
    }
    const replied = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: {
        surveyId,
        channel: 'email',
        respondentId: 'ola@example.no',
        score: 3,
        comment: 'Nej',
      },
    });
    expect(replied.status).toBe(202);
    await drained(config);
    await invitationsDrained(config);
    // Three invited; the one email reply answers one of the two email invitations; no sms answer.
    const result = await funnel(url, `surveyId=${surveyId}`);
    expect(result.stages).toEqual({ invited: 3, opened: 0, responded: 1, commented: 1 });
    expect(result.responders).toMatchObject({ responses: 1, detractors: 1, nps: -100 });
    expect((await funnel(url, `surveyId=${surveyId}&channel=sms`)).stages.responded).toBe(0);
  });

  it('an invitation Kafka refuses is answered 503, recorded nowhere, and does not throttle its respondent', async () => {
    const env = pipelineEnv();
    // No processor yet: nothing is subscribed to the topic taken away below.
    const { url, config } = await startPipeline(['ingest', 'api'], env);
    const surveyId = uniqueName('funnel-refused');
    const body = { surveyId, channel: 'sms', respondentId: 'crm-7', invitationId: 'inv-refused' };
    const admin = await kafkaAdmin();
    await admin.deleteTopics({ topics: [config.invitationTopic] });
    const refused = await api(url, '/v1/invitations', { key: INGEST_KEY, body });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');

    await admin.createTopics({
      topics: [{ topic: config.invitationTopic, numPartitions: 3 }],
      waitForLeaders: true,
    });
    // The retry is a first creation (201, not 200 for a known id), and not throttled (409) by the
    // attempt Kafka refused.
    const retried = await eventually(
      () => api(url, '/v1/invitations', { key: INGEST_KEY, body }),
      (r) => r.status !== 503,
    );
    expect(retried.status).toBe(201);
    await startPipeline(['process'], env);
    await invitationsDrained(config);
    expect((await funnel(url, `surveyId=${surveyId}`)).stages).toEqual({
      invited: 1,
      opened: 0,
      responded: 0,
      commented: 0,
    });
  });

  it('kill -9 of the processor while invitations stream through, then a full replay: each invitation and first open counted once', async () => {
    const env = pipelineEnv();
    const cenv = childEnv(env);
    const config = loadConfig({ ...process.env, ...env });
    const ingest = await startPipeline(['ingest'], env);
    let processor: Child = await startChild(['--roles', 'process,api'], cenv);
    const surveyId = uniqueName('funnel-crash');
    const tokens: string[] = [];
    const rounds = 4;
    const perRound = 150;
    for (let round = 0; round < rounds; round++) {
      const posted = await api(ingest.url, '/v1/invitations/batch', {
        key: INGEST_KEY,
        body: Array.from({ length: perRound }, (_, i) => ({
          surveyId,
          channel: (['web', 'sms', 'email'] as const)[i % 3],
          invitationId: `crash-${round}-${i}`,
        })),
      });
      expect(posted.status).toBe(200);
      tokens.push(...(posted.body.items as { token: string }[]).map((i) => i.token));
      // Every fifth link opened, twice.
      for (const token of tokens.slice(-perRound).filter((_, i) => i % 5 === 0)) {
        await fetch(`${ingest.url}/v1/r/${token}`);
        await fetch(`${ingest.url}/v1/r/${token}`);
      }
      if (round === 1) {
        processor.process.kill('SIGKILL');
        processor = await startChild(['--roles', 'process,api'], cenv);
      }
    }
    await invitationsDrained(config);
    const expected = {
      invited: rounds * perRound,
      opened: rounds * Math.ceil(perRound / 5),
      responded: 0,
      commented: 0,
    };
    expect((await funnel(processor.url, `surveyId=${surveyId}`)).stages).toEqual(expected);

    // kill -9 again, then Kafka replays every fact from the start.
    processor.process.kill('SIGKILL');
    await resetWhenReleased(invitationGroup(config.consumerGroup), config.invitationTopic);
    processor = await startChild(['--roles', 'process,api'], cenv);
    await invitationsDrained(config);
    expect((await funnel(processor.url, `surveyId=${surveyId}`)).stages).toEqual(expected);
  }, 300_000);
});
