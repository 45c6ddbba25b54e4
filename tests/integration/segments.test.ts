import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mailgunSignature } from '../../src/ingest/mailgun.js';
import { twilioSignature } from '../../src/ingest/twilio-sms.js';
import { loadConfig } from '../../src/config/config.js';
import { createRedis } from '../../src/storage/redis.js';
import { childEnv, exited, startChild } from '../support/child.js';
import type { Child } from '../support/child.js';
import { batch, sumCounts } from '../support/counts.js';
import type { Counts } from '../support/counts.js';
import { endpoints } from '../support/services.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  MAILGUN_KEY,
  PUBLIC_BASE_URL,
  READ_KEY,
  TWILIO_TOKEN,
  api,
  cleanupPipeline,
  drained,
  eventually,
  pipelineEnv,
  rebuildLiveIn,
  replayFromStart,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

type Channel = 'web' | 'sms' | 'email';
interface Posted {
  readonly score: number;
  readonly channel: Channel;
  readonly segment: Readonly<Record<string, string>>;
  readonly respondedAt: number;
  readonly respondentId?: string;
}

const MINUTE = 60_000;

/** The counts of the posted responses that `keep` selects, computed here from the inputs. */
function count(posted: readonly Posted[], keep: (p: Posted) => boolean): Counts {
  const kept = posted.filter(keep);
  return {
    responses: kept.length,
    promoters: kept.filter((p) => p.score >= 9).length,
    passives: kept.filter((p) => p.score === 7 || p.score === 8).length,
    detractors: kept.filter((p) => p.score <= 6).length,
  };
}

function countsOf(body: Record<string, unknown>): Counts {
  const { responses, promoters, passives, detractors } = body as unknown as Counts;
  return { responses, promoters, passives, detractors };
}

function query(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

async function live(url: string, params: Record<string, string>) {
  return api(url, `/v1/nps/live?${query({ window: '1h', ...params })}`, { key: READ_KEY });
}

/** POSTs responses through the JSON API and remembers what was sent. */
async function postJson(url: string, surveyId: string, items: Posted[], into: Posted[]) {
  const res = await api(url, '/v1/responses', {
    key: INGEST_KEY,
    body: items.map((p) => ({
      surveyId,
      score: p.score,
      channel: p.channel,
      segment: p.segment,
      respondedAt: new Date(p.respondedAt).toISOString(),
      ...(p.respondentId !== undefined && { respondentId: p.respondentId }),
    })),
  });
  expect(res.status).toBe(202);
  into.push(...items);
}

/** An inbound SMS through a Twilio route whose URL carries `route` (segment.<key>=...). */
async function sms(url: string, surveyId: string, route: string, score: number) {
  const path = `/v1/webhooks/twilio/sms?surveyId=${surveyId}&${route}`;
  const fields = {
    MessageSid: `SM${randomBytes(16).toString('hex')}`,
    AccountSid: `AC${'0'.repeat(32)}`,
    From: '+4512345678',
    To: '+4587654321',
    Body: `${score} tak`,
  };
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // Twilio signs the full URL it calls, query string (the route's segment) included.
      'x-twilio-signature': twilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}${path}`, fields),
    },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, text: await res.text() };
}

/** An inbound email through a Mailgun route whose URL carries `route`. */
async function email(url: string, surveyId: string, route: string, score: number) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString('hex');
  const fields = {
    sender: 'kunde@example.se',
    'Message-Id': `<${randomBytes(8).toString('hex')}@example.se>`,
    'stripped-text': `${score}, fint`,
    timestamp,
    token,
    signature: mailgunSignature(MAILGUN_KEY, timestamp, token),
  };
  const res = await fetch(`${url}/v1/webhooks/mailgun?surveyId=${surveyId}&${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The first `nps` event of an SSE stream. */
async function firstSseEvent(url: string, path: string): Promise<Record<string, unknown>> {
  const controller = new AbortController();
  onTestFinished(() => {
    controller.abort();
  });
  const res = await fetch(`${url}${path}`, {
    headers: { authorization: `Bearer ${READ_KEY}` },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const body: ReadableStream<Uint8Array> | null = res.body;
  const reader = body?.getReader();
  if (!reader) throw new Error('no body');
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended without an nps event');
    buffer += decoder.decode(value, { stream: true });
    const event = buffer.split('\n\n').find((e) => e.startsWith('event: nps'));
    if (event)
      return JSON.parse(event.slice(event.indexOf('data: ') + 6)) as Record<string, unknown>;
  }
}

describe('segments', () => {
  it('live, SSE, history and compare answer per segment what was posted over the API, Twilio and Mailgun routes', async () => {
    const env = { ...pipelineEnv(), NPS_SEGMENT_KEYS: 'region,store' };
    const { url, config } = await startPipeline(undefined, env);
    const surveyId = uniqueName('seg');
    const now = Date.now();
    const posted: Posted[] = [];
    const stores = ['s1', 's2', 's3'];
    await postJson(
      url,
      surveyId,
      Array.from({ length: 66 }, (_, i) => ({
        score: (i * 7) % 11,
        channel: (['web', 'sms', 'email'] as const)[i % 3] ?? 'web',
        // Every fifth without a store; every seventh with no segment at all.
        segment:
          i % 7 === 0
            ? {}
            : {
                region: i % 2 === 0 ? 'dk' : 'se',
                ...(i % 5 !== 0 && { store: stores[i % 4 === 0 ? 2 : i % 2] ?? 's1' }),
              },
        respondedAt: now - (50 - (i % 45)) * MINUTE - 17_000,
      })),
      posted,
    );

    // Webhook routes: one per store. Their responses are stamped with the route's segment.
    for (const score of [10, 3, 8, 9]) {
      expect((await sms(url, surveyId, 'segment.store=s1&segment.region=dk', score)).status).toBe(
        200,
      );
      posted.push({
        score,
        channel: 'sms',
        segment: { store: 's1', region: 'dk' },
        respondedAt: 0,
      });
    }
    for (const score of [2, 10, 7]) {
      const res = await email(url, surveyId, 'segment.store=s2&segment.campaign=spring', score);
      expect(res.body).toMatchObject({ recorded: true });
      posted.push({
        score,
        channel: 'email',
        segment: { store: 's2', campaign: 'spring' },
        respondedAt: 0,
      });
    }
    // A misconfigured route answers 400 naming the parameter, and records nothing.
    const tooLong = `segment.store=${'x'.repeat(300)}`;
    const badSms = await sms(url, surveyId, tooLong, 10);
    expect(badSms.status).toBe(400);
    expect(JSON.parse(badSms.text)).toMatchObject({ errors: [{ field: 'segment.store' }] });
    const badEmail = await email(url, surveyId, tooLong, 10);
    expect(badEmail.status).toBe(400);
    expect(badEmail.body).toMatchObject({ errors: [{ field: 'segment.store' }] });
    await drained(config);
    const webhookAt = Date.now();

    const byStore = (store: string, channel?: Channel) =>
      count(posted, (p) => p.segment.store === store && (channel ?? p.channel) === p.channel);
    for (const store of stores) {
      const res = await live(url, { surveyId, 'segment.store': store });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ segment: { store } });
      expect(res.body.note).toBeUndefined();
      expect(countsOf(res.body), store).toEqual(byStore(store));
      for (const channel of ['web', 'sms', 'email'] as const) {
        const sliced = await live(url, { surveyId, channel, 'segment.store': store });
        expect(countsOf(sliced.body), `${store} ${channel}`).toEqual(byStore(store, channel));
      }
    }
    for (const region of ['dk', 'se']) {
      const res = await live(url, { surveyId, 'segment.region': region });
      expect(countsOf(res.body), region).toEqual(count(posted, (p) => p.segment.region === region));
    }
    expect(countsOf((await live(url, { surveyId })).body)).toEqual(count(posted, () => true));

    // Only configured keys, one at a time live.
    const unknown = await live(url, { surveyId, 'segment.campaign': 'spring' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ errors: [{ field: 'segment.campaign' }] });
    const two = await live(url, { surveyId, 'segment.store': 's1', 'segment.region': 'dk' });
    expect(two.status).toBe(400);
    expect(JSON.stringify(two.body.errors)).toContain('segment.');

    // SSE: the same slice, one event.
    const event = await firstSseEvent(
      url,
      `/v1/nps/stream?${query({ surveyId, window: '1h', channel: 'sms', 'segment.store': 's1' })}`,
    );
    expect(event).toMatchObject({ surveyId, channel: 'sms', segment: { store: 's1' } });
    expect(countsOf(event)).toEqual(byStore('s1', 'sms'));

    // History: several filters AND-ed, from the responses themselves.
    const from = new Date(now - 2 * 3_600_000).toISOString();
    const to = new Date(webhookAt + 3_600_000).toISOString();
    const history = await api(
      url,
      `/v1/nps/history?${query({ surveyId, from, to, interval: 'hour', 'segment.store': 's1', 'segment.region': 'dk' })}`,
      { key: READ_KEY },
    );
    expect(history.status).toBe(200);
    expect(history.body.segment).toEqual({ store: 's1', region: 'dk' });
    expect(sumCounts(history.body.series as Counts[])).toEqual(
      count(posted, (p) => p.segment.store === 's1' && p.segment.region === 'dk'),
    );
    const byChannel = await api(
      url,
      `/v1/nps/history?${query({ surveyId, from, to, interval: 'day', groupBy: 'channel', 'segment.store': 's2' })}`,
      { key: READ_KEY },
    );
    const emailRows = (byChannel.body.series as (Counts & { channel: string })[]).filter(
      (r) => r.channel === 'email',
    );
    expect(sumCounts(emailRows)).toEqual(byStore('s2', 'email'));

    // Compare: the API responses of store s3 before and after a cut, against the same split here.
    const cut = now - 25 * MINUTE;
    const compare = await api(
      url,
      `/v1/nps/compare?${query({
        surveyId,
        aFrom: from,
        aTo: new Date(cut).toISOString(),
        bFrom: new Date(cut).toISOString(),
        bTo: new Date(now).toISOString(),
        'segment.store': 's3',
      })}`,
      { key: READ_KEY },
    );
    expect(compare.status).toBe(200);
    expect(compare.body.segment).toEqual({ store: 's3' });
    const inA = (p: Posted) => p.segment.store === 's3' && p.respondedAt > 0 && p.respondedAt < cut;
    const inB = (p: Posted) => p.segment.store === 's3' && p.respondedAt >= cut;
    expect(countsOf(compare.body.a as Record<string, unknown>)).toEqual(count(posted, inA));
    expect(countsOf(compare.body.b as Record<string, unknown>)).toEqual(count(posted, inB));
    const badCompare = await api(
      url,
      `/v1/nps/compare?${query({ surveyId, aFrom: from, aTo: to, bFrom: from, bTo: to, 'segment.plan': 'x' })}`,
      { key: READ_KEY },
    );
    expect(badCompare.status).toBe(400);
    expect(badCompare.body).toMatchObject({ errors: [{ field: 'segment.plan' }] });
  });

  it('past NPS_SEGMENT_MAX_VALUES values, live counts the rest under other (exactly, also after a replay) while history keeps each value', async () => {
    const env = { ...pipelineEnv(), NPS_SEGMENT_KEYS: 'store', NPS_SEGMENT_MAX_VALUES: '3' };
    let pipeline = await startPipeline(undefined, env);
    const { config } = pipeline;
    const surveyId = uniqueName('seg-max');
    const now = Date.now();
    const posted: Posted[] = [];
    const responses = (store: string, n: number, offset: number): Posted[] =>
      Array.from({ length: n }, (_, i) => ({
        score: (i * 3 + offset) % 11,
        channel: 'web',
        segment: { store },
        respondedAt: now - (i + 1) * MINUTE,
      }));
    // The first three values are counted (and so tracked) before the next two arrive.
    await postJson(
      pipeline.url,
      surveyId,
      [...responses('v1', 5, 0), ...responses('v2', 4, 1), ...responses('v3', 6, 2)],
      posted,
    );
    await drained(config);
    await postJson(
      pipeline.url,
      surveyId,
      [...responses('v4', 7, 3), ...responses('v5', 3, 4)],
      posted,
    );
    await drained(config);

    const check = async (url: string) => {
      for (const store of ['v1', 'v2', 'v3']) {
        const res = await live(url, { surveyId, 'segment.store': store });
        expect(res.body.segment).toEqual({ store });
        expect(countsOf(res.body), store).toEqual(count(posted, (p) => p.segment.store === store));
      }
      const rest = count(posted, (p) => p.segment.store === 'v4' || p.segment.store === 'v5');
      for (const store of ['v4', 'v5', 'never-seen']) {
        const res = await live(url, { surveyId, 'segment.store': store });
        expect(res.body.segment).toEqual({ store: 'other' });
        expect(res.body.note).toContain(`store=${store}`);
        expect(countsOf(res.body), store).toEqual(rest);
      }
      const other = await live(url, { surveyId, 'segment.store': 'other' });
      expect(countsOf(other.body)).toEqual(rest);
      const history = await api(
        url,
        `/v1/nps/history?${query({ surveyId, from: new Date(now - 3_600_000).toISOString(), interval: 'hour', 'segment.store': 'v4' })}`,
        { key: READ_KEY },
      );
      expect(sumCounts(history.body.series as Counts[])).toEqual(
        count(posted, (p) => p.segment.store === 'v4'),
      );
    };
    await check(pipeline.url);

    // Kafka replays everything: the same first-copy marks and fences, nothing counts twice.
    pipeline = await replayFromStart(pipeline, env);
    await check(pipeline.url);
  });

  it('erasure takes a respondent out of the segment windows, and rebuild-live restores them from history', async () => {
    const env = { ...pipelineEnv(), NPS_SEGMENT_KEYS: 'store' };
    const first = await startPipeline(undefined, env);
    const { config } = first;
    const surveyId = uniqueName('seg-erase');
    const now = Date.now();
    const posted: Posted[] = [];
    await postJson(
      first.url,
      surveyId,
      Array.from({ length: 40 }, (_, i) => ({
        score: (i * 5) % 11,
        channel: (['web', 'sms', 'email'] as const)[i % 3] ?? 'web',
        segment: { store: i % 2 === 0 ? 'north' : 'south' },
        respondedAt: now - (i + 1) * MINUTE,
        respondentId: `crm-${i % 4}`,
      })),
      posted,
    );
    await drained(config);

    const erased = await api(first.url, '/v1/respondents/crm-1', {
      method: 'DELETE',
      key: ADMIN_KEY,
    });
    expect(erased.status).toBe(200);
    const kept = posted.filter((p) => p.respondentId !== 'crm-1');
    const check = async (url: string) => {
      for (const store of ['north', 'south']) {
        for (const channel of [undefined, 'sms'] as const) {
          const res = await live(url, {
            surveyId,
            'segment.store': store,
            ...(channel && { channel }),
          });
          expect(countsOf(res.body), `${store} ${channel ?? 'all'}`).toEqual(
            count(kept, (p) => p.segment.store === store && (channel ?? p.channel) === p.channel),
          );
        }
      }
    };
    await check(first.url);

    // Redis loses everything of this pipeline; the documented recovery rebuilds it.
    await first.close();
    const client = createRedis(endpoints().redisUrl, 'consumer');
    await client.connect();
    onTestFinished(() => {
      client.disconnect();
    });
    const keys = await client.keys(`${config.redisPrefix}*`);
    expect(keys.some((k) => k.includes(':store=north'))).toBe(true);
    await client.del(...keys);
    await rebuildLiveIn(config, client);
    const second = await startPipeline(undefined, env);
    await drained(config);
    await check(second.url);
  });

  it(
    'kill -9 of the processor while segmented responses (and repeats) stream through: every segment window and history slice exact',
    { timeout: 240_000 },
    async () => {
      const env = childEnv({ ...pipelineEnv(), NPS_SEGMENT_KEYS: 'store' });
      cleanupPipeline(env);
      const config = loadConfig({ ...process.env, ...env });
      const ingest = await startChild(['--roles', 'ingest'], env);
      let processor: Child = await startChild(['--roles', 'process,api'], env);
      const surveyId = uniqueName('seg-crash');
      const TOTAL = 8000;
      const BATCH = 250;
      const storeOf = (n: number) => `st-${n % 7}`;
      const post = async (from: number) => {
        const res = await api(ingest.url, '/v1/responses', {
          key: INGEST_KEY,
          body: batch(surveyId, from, BATCH).map((r, i) => ({
            ...r,
            segment: { store: storeOf(from + i) },
          })),
        });
        expect(res.status).toBe(202);
      };
      // Every fifth batch is sent again later (a client retry).
      const streaming = (async () => {
        for (let from = 0; from < TOTAL; from += BATCH) {
          await post(from);
          if ((from / BATCH) % 5 === 4) await post(from - 2 * BATCH);
          await sleep(250);
        }
      })();
      for (let k = 0; k < 3; k++) {
        await sleep(randomInt(1500, 4000));
        processor.process.kill('SIGKILL');
        await exited(processor.process);
        processor = await startChild(['--roles', 'process,api'], env);
      }
      await streaming;
      await drained(config, 90_000);

      // What was posted, from the inputs: response r-n has score n % 11, channel n % 3.
      const posted: Posted[] = Array.from({ length: TOTAL }, (_, n) => ({
        score: n % 11,
        channel: (['web', 'sms', 'email'] as const)[n % 3] ?? 'web',
        segment: { store: storeOf(n) },
        respondedAt: 0,
      }));
      const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
      for (const store of ['st-0', 'st-3', 'st-6']) {
        const res = await api(
          processor.url,
          `/v1/nps/live?${query({ surveyId, window: '24h', 'segment.store': store })}`,
          { key: READ_KEY },
        );
        expect(countsOf(res.body), store).toEqual(count(posted, (p) => p.segment.store === store));
        const sms = await api(
          processor.url,
          `/v1/nps/live?${query({ surveyId, channel: 'sms', 'segment.store': store })}`,
          { key: READ_KEY },
        );
        expect(countsOf(sms.body), `${store} sms`).toEqual(
          count(posted, (p) => p.segment.store === store && p.channel === 'sms'),
        );
        const history = await eventually(
          async () =>
            sumCounts(
              (
                await api(
                  processor.url,
                  `/v1/nps/history?${query({ surveyId, from, interval: 'hour', 'segment.store': store })}`,
                  { key: READ_KEY },
                )
              ).body.series as Counts[],
            ),
          (t) => t.responses >= count(posted, (p) => p.segment.store === store).responses,
          60_000,
        );
        expect(history, `${store} history`).toEqual(
          count(posted, (p) => p.segment.store === store),
        );
      }
    },
  );
});
