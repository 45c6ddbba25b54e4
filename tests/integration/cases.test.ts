import { createHash, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { normalizedResponse } from '../../src/domain/response.js';
import type { NpsEvent } from '../../src/events/types.js';
import { Publisher } from '../../src/ingest/publisher.js';
import { ResponseCodec } from '../../src/kafka/response-codec.js';
import { start } from '../../src/start.js';
import { childEnv, exited, startChild } from '../support/child.js';
import type { Child } from '../support/child.js';
import { clickhouse, clickhouseTarget, endpoints, kafka, redis } from '../support/services.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  READ_KEY,
  api,
  cleanupPipeline,
  drained,
  eventually,
  pipelineEnv,
  rebuildLiveIn,
  resetToStart,
  resetWhenReleased,
  uniqueName,
} from '../support/pipeline.js';

const HOUR = 3_600_000;
const CASES_KEY = 'test-cases-key-0123456789';
const OTHER_CASES_KEY = 'test-other-survey-cases-key-0123456789';
const CHANNELS = ['web', 'sms', 'email'] as const;
const DELIVERY = 'Pakken kom alt for sent';
const PRICE = 'Prisen er alt for høj';
/** The name the service gives a key in what it writes: a digest prefix, never the key. */
const CASES_KEY_NAME = `key:${createHash('sha256').update(CASES_KEY).digest('hex').slice(0, 12)}`;

interface CaseView {
  caseId: string;
  responseId: string;
  surveyId: string;
  score: number;
  comment: string | null;
  themes: string[];
  respondentId: string | null;
  status: string;
  assignee: string | null;
  openedAt: string;
  firstContactAt: string | null;
  resolvedAt: string | null;
  dueAt: string;
  overdue: boolean;
  notes: { at: string; by: string; note: string }[];
  laterScore: number | null;
  recovered: boolean | null;
  changes?: { changeId: string; at: string; by: string; status?: string; note?: string }[];
}

function casesEnv(extra: Record<string, string> = {}): Record<string, string> {
  const base = pipelineEnv();
  return {
    ...base,
    NPS_API_KEYS: `${base.NPS_API_KEYS ?? ''},${CASES_KEY}:cases,${OTHER_CASES_KEY}:cases:other.survey`,
    ...extra,
  };
}

/**
 * The three roles in this process with a sink that keeps the `case.updated` events in memory: the
 * interface's stand-in until the events topic is wired in. Closed when the test ends.
 */
async function startWithSink(env: Record<string, string>) {
  const config = loadConfig({ ...process.env, ...env });
  const events: NpsEvent[] = [];
  const running = await start({
    config,
    endpoints: { ...endpoints(), clickhouse: clickhouseTarget() },
    roles: ['ingest', 'process', 'api'],
    port: 0,
    log: () => undefined,
    events: {
      publish: (published) => {
        events.push(...published);
        return Promise.resolve();
      },
    },
  });
  onTestFinished(() => running.close());
  return { ...running, config, events };
}

async function post(url: string, items: readonly unknown[]): Promise<void> {
  const res = await api(url, '/v1/responses', { key: INGEST_KEY, body: items });
  expect(res.status).toBe(202);
}

/** Every case of the survey, page by page. */
async function allCases(url: string, surveyId: string, query = '', limit = 7): Promise<CaseView[]> {
  const cases: CaseView[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await api(
      url,
      `/v1/cases?surveyId=${surveyId}&limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`,
      { key: CASES_KEY },
    );
    expect(page.status).toBe(200);
    cases.push(...(page.body.cases as CaseView[]));
    cursor = page.body.nextCursor as string | null;
    if (cursor === null) return cases;
  }
}

const responseIds = (cases: readonly CaseView[]) => cases.map((c) => c.responseId).sort();

function patch(url: string, caseId: string, body: unknown, headers: Record<string, string> = {}) {
  return api(url, `/v1/cases/${caseId}`, { method: 'PATCH', key: CASES_KEY, body, headers });
}

describe('follow-up cases', () => {
  it(
    'every detractor opens one case; changes are kept with who and when and published; summary, recovery and metrics add up; all of it survives a restart, a Redis loss with rebuild-live and a full replay',
    { timeout: 240_000 },
    async () => {
      const env = casesEnv();
      cleanupPipeline(env);
      let pipeline = await startWithSink(env);
      const { config } = pipeline;
      const surveyId = uniqueName('cases');
      const began = Date.now();
      const first = Array.from({ length: 44 }, (_, i) => ({
        surveyId,
        responseId: `c-${i}`,
        score: i % 11,
        channel: CHANNELS[i % 3],
        respondentId: `person-${i}`,
        respondedAt: new Date(began - 2 * HOUR).toISOString(),
        ...(i % 4 === 0 && { comment: DELIVERY }),
      }));
      await post(pipeline.url, first);
      await post(pipeline.url, first.slice(0, 10)); // a client retry: no case twice
      // Later answers: person-3 (a 3) now says 9, person-1 (a 1) says 5, person-9 (a 9) says 2.
      const later = [
        { who: 3, score: 9 },
        { who: 1, score: 5 },
        { who: 9, score: 2 },
      ].map(({ who, score }) => ({
        surveyId,
        responseId: `c-later-${who}`,
        score,
        respondentId: `person-${who}`,
      }));
      await post(pipeline.url, later);
      const posted = Date.now();
      // A detractor's response that reached us three days ago (a delayed record): past its SLA.
      const codec = new ResponseCodec(endpoints().schemaRegistryUrl, config.topic);
      await codec.register();
      const publisher = new Publisher(kafka(), codec, config.topic);
      await publisher.connect();
      onTestFinished(() => publisher.close());
      const oldAt = began - 72 * HOUR;
      await publisher.publish([
        normalizedResponse({
          responseId: 'c-old',
          surveyId,
          channel: 'web',
          score: 0,
          respondentId: 'person-old',
          respondedAt: oldAt,
          receivedAt: oldAt,
        }),
      ]);
      await drained(config);

      const all = [...first, ...later, { responseId: 'c-old', score: 0 }];
      const detractors = all.filter((r) => r.score <= 6).map((r) => r.responseId);
      const listed = await eventually(
        () => allCases(pipeline.url, surveyId),
        (cases) => cases.length >= detractors.length,
      );
      expect(responseIds(listed)).toEqual([...detractors].sort());
      expect(new Set(listed.map((c) => c.caseId)).size).toBe(detractors.length);
      // Newest first.
      const opened = listed.map((c) => Date.parse(c.openedAt));
      expect(opened).toEqual([...opened].sort((a, b) => b - a));
      const byResponse = (cases: readonly CaseView[], id: string) => {
        const found = cases.find((c) => c.responseId === id);
        if (!found) throw new Error(`no case of ${id}`);
        return found;
      };
      const c0 = byResponse(listed, 'c-0');
      expect(c0).toMatchObject({
        surveyId,
        score: 0,
        comment: DELIVERY,
        respondentId: 'person-0',
        status: 'open',
        assignee: null,
        firstContactAt: null,
        resolvedAt: null,
        overdue: false,
        notes: [],
        laterScore: null,
        recovered: null,
      });
      expect(c0.themes).toContain('delivery');
      expect(Date.parse(c0.openedAt)).toBeGreaterThanOrEqual(began);
      expect(Date.parse(c0.openedAt)).toBeLessThanOrEqual(posted);
      expect(Date.parse(c0.dueAt) - Date.parse(c0.openedAt)).toBe(48 * HOUR);
      expect(byResponse(listed, 'c-old')).toMatchObject({
        openedAt: new Date(oldAt).toISOString(),
      });
      expect(byResponse(listed, 'c-old').overdue).toBe(true);
      // Filters: by theme, by status.
      const delivery = first.filter((r) => r.score <= 6 && r.comment === DELIVERY);
      expect(responseIds(await allCases(pipeline.url, surveyId, '&theme=delivery'))).toEqual(
        delivery.map((r) => r.responseId).sort(),
      );
      expect(await allCases(pipeline.url, surveyId, '&status=resolved')).toEqual([]);

      // People work on c-3's case: assign with a note (sent twice under one Idempotency-Key), contact, resolve.
      const c3 = byResponse(listed, 'c-3');
      const before = Date.now();
      const assign = await patch(
        pipeline.url,
        c3.caseId,
        { assignee: 'Ann', note: 'Ringer i morgen' },
        { 'Idempotency-Key': 'assign-1' },
      );
      expect(assign.status).toBe(200);
      const retry = await patch(
        pipeline.url,
        c3.caseId,
        { assignee: 'Ann', note: 'Ringer i morgen' },
        { 'Idempotency-Key': 'assign-1' },
      );
      expect(retry.body).toEqual(assign.body);
      expect(assign.body).toMatchObject({
        assignee: 'Ann',
        status: 'open',
        notes: [{ by: CASES_KEY_NAME, note: 'Ringer i morgen' }],
      });
      const contactedAt = [Date.now()];
      const contacted = await patch(pipeline.url, c3.caseId, { status: 'contacted' });
      contactedAt.push(Date.now());
      expect(contacted.body.status).toBe('contacted');
      const firstContact = Date.parse(String(contacted.body.firstContactAt));
      expect(firstContact).toBeGreaterThanOrEqual(contactedAt[0] as number);
      expect(firstContact).toBeLessThanOrEqual(contactedAt[1] as number);
      // The same state again is not a change; back to open after contact is refused.
      expect((await patch(pipeline.url, c3.caseId, { status: 'contacted' })).body).toEqual(
        contacted.body,
      );
      const back = await patch(pipeline.url, c3.caseId, { status: 'open' });
      expect(back.status).toBe(409);
      expect(back.headers.get('content-type')).toContain('application/problem+json');
      const resolved = await patch(pipeline.url, c3.caseId, {
        status: 'resolved',
        note: 'Refunderet fragten',
      });
      expect(resolved.body).toMatchObject({
        status: 'resolved',
        firstContactAt: contacted.body.firstContactAt,
      });
      expect(Date.parse(String(resolved.body.resolvedAt))).toBeGreaterThan(firstContact);
      const after = Date.now();
      // The first request retried late: nothing kept, the case as it is now in the answer.
      const late = await patch(
        pipeline.url,
        c3.caseId,
        { assignee: 'Ann', note: 'Ringer i morgen' },
        { 'Idempotency-Key': 'assign-1' },
      );
      expect(late.body).toEqual(resolved.body);
      const reused = await patch(
        pipeline.url,
        c3.caseId,
        { note: 'Something else' },
        { 'Idempotency-Key': 'assign-1' },
      );
      expect(reused.status).toBe(409);

      // Every change kept: who, when, what, in order.
      const read = await api(pipeline.url, `/v1/cases/${c3.caseId}`, { key: CASES_KEY });
      expect(read.status).toBe(200);
      const changes = (read.body as unknown as CaseView).changes ?? [];
      expect(changes.map((c) => ({ ...c, changeId: undefined, at: undefined }))).toEqual([
        { by: CASES_KEY_NAME, assignee: 'Ann', note: 'Ringer i morgen' },
        { by: CASES_KEY_NAME, status: 'contacted' },
        { by: CASES_KEY_NAME, status: 'resolved', note: 'Refunderet fragten' },
      ]);
      const times = changes.map((c) => Date.parse(c.at));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(times[0]).toBeGreaterThanOrEqual(before);
      expect(times.at(-1)).toBeLessThanOrEqual(after);
      // c-3's respondent answered 9 later: a recovery.
      expect(read.body).toMatchObject({ laterScore: 9, recovered: true });

      // Each kept change was published as case.updated; the retried one again, twice, each time
      // the same event as the first (id and data), however much changed since.
      const updates = pipeline.events.filter((e) => e.surveyId === surveyId);
      expect(updates.every((e) => e.type === 'case.updated')).toBe(true);
      expect(updates.map((e) => e.id)).toHaveLength(5);
      expect(new Set(updates.map((e) => e.id)).size).toBe(3);
      expect(updates[1]).toEqual(updates[0]);
      expect(updates[4]).toEqual(updates[0]);
      expect(updates[0]).toMatchObject({ data: { status: 'open', assignee: 'Ann' } });
      expect(updates[3]).toMatchObject({
        respondentId: 'person-3',
        data: { caseId: c3.caseId, status: 'resolved', changedBy: CASES_KEY_NAME },
      });

      // c-1's case is resolved straight away: a first contact too. Its respondent said 5 later.
      const c1 = byResponse(listed, 'c-1');
      const c1Before = Date.now();
      const c1Resolved = await patch(pipeline.url, c1.caseId, { status: 'resolved' });
      expect(c1Resolved.body).toMatchObject({ laterScore: 5, recovered: false });
      expect(Date.parse(String(c1Resolved.body.firstContactAt))).toBeGreaterThanOrEqual(c1Before);

      // Bad input is named, field by field, and recorded nowhere; keys see only what they may.
      const bad = await patch(pipeline.url, c1.caseId, { status: 'closed', extra: 1, note: '' });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      for (const field of ['status', 'extra', 'note'])
        expect(String(bad.body.detail)).toContain(field);
      expect((await patch(pipeline.url, c1.caseId, {})).status).toBe(400);
      expect(
        (
          await api(pipeline.url, `/v1/cases/${c1.caseId}`, {
            method: 'PATCH',
            key: CASES_KEY,
            raw: 'status=contacted',
            contentType: 'text/plain',
          })
        ).status,
      ).toBe(415);
      expect(
        (await patch(pipeline.url, `case_${'x'.repeat(24)}`, { status: 'contacted' })).status,
      ).toBe(404);
      expect((await patch(pipeline.url, 'not-a-case', { status: 'contacted' })).status).toBe(400);
      expect(
        (
          await api(pipeline.url, `/v1/cases?surveyId=${surveyId}&cursor=nonsense`, {
            key: CASES_KEY,
          })
        ).status,
      ).toBe(400);
      expect((await api(pipeline.url, `/v1/cases?surveyId=${surveyId}`)).status).toBe(401);
      expect(
        (await api(pipeline.url, `/v1/cases?surveyId=${surveyId}`, { key: READ_KEY })).status,
      ).toBe(403);
      expect(
        (await api(pipeline.url, `/v1/cases/${c1.caseId}`, { key: OTHER_CASES_KEY })).status,
      ).toBe(403);
      expect((await api(pipeline.url, '/v1/cases', { key: OTHER_CASES_KEY })).body.cases).toEqual(
        [],
      );
      expect(
        (await api(pipeline.url, `/v1/cases?surveyId=${surveyId}&limit=1`, { key: ADMIN_KEY }))
          .status,
      ).toBe(200);
      expect(pipeline.events.filter((e) => e.surveyId === surveyId)).toHaveLength(6);

      // The summary against our own count.
      const waits = [firstContact, Date.parse(String(c1Resolved.body.firstContactAt))].map(
        (t, i) => (t - Date.parse((i === 0 ? c3 : c1).openedAt)) / 1000,
      );
      const expectedSummary = {
        cases: detractors.length,
        statuses: { open: detractors.length - 2, contacted: 0, resolved: 2 },
        overdue: 1,
        timeToFirstContact: { n: 2, medianSeconds: waits.reduce((a, b) => a + b, 0) / 2 },
        // Two cases have a later answer (c-3: 9, c-1: 5); one came back better.
        recovery: {
          n: 2,
          recovered: 1,
          rate: 50,
          marginOfError: Math.round(1000 * 1.96 * Math.sqrt(0.25 / 2)) / 10,
        },
      };
      const summaryPath = `/v1/cases/summary?surveyId=${surveyId}&from=${new Date(began - 96 * HOUR).toISOString()}`;
      const summary = await api(pipeline.url, summaryPath, { key: CASES_KEY });
      expect(summary.status).toBe(200);
      expect(summary.body).toMatchObject(expectedSummary);

      // Prometheus: open (not resolved) and overdue per survey, and the two first contacts.
      const metrics = await (await fetch(`${pipeline.url}/metrics`)).text();
      expect(metrics).toContain(`nps_cases_open{survey_id="${surveyId}"} ${detractors.length - 2}`);
      expect(metrics).toContain(`nps_cases_overdue{survey_id="${surveyId}"} 1`);
      expect(metrics).toContain('nps_case_time_to_first_contact_seconds_count 2');

      // A restart of every service, then Redis loses this pipeline's keys and is rebuilt: the
      // cases and their edits are as they were.
      const snapshot = await allCases(pipeline.url, surveyId);
      await pipeline.close();
      const { client } = await redis();
      const keys = await client.keys(`${config.redisPrefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      await client.del(...keys);
      await rebuildLiveIn(config, client);
      pipeline = await startWithSink(env);
      await drained(config);
      expect(await allCases(pipeline.url, surveyId)).toEqual(snapshot);

      // Kafka replays the whole topic: no case twice, no edit lost, no event published again.
      await pipeline.close();
      await resetToStart(config);
      pipeline = await startWithSink(env);
      await drained(config, 60_000);
      expect(await allCases(pipeline.url, surveyId)).toEqual(snapshot);
      expect((await api(pipeline.url, summaryPath, { key: CASES_KEY })).body).toMatchObject(
        expectedSummary,
      );
      expect(pipeline.events).toEqual([]);
    },
  );

  it('a theme rule opens cases for what people write about, at any score', async () => {
    const env = casesEnv({ NPS_CASE_RULE: 'theme:delivery|score=0' });
    cleanupPipeline(env);
    const pipeline = await startWithSink(env);
    const surveyId = uniqueName('case-theme');
    const items = [
      { responseId: 't-1', score: 10, comment: DELIVERY },
      { responseId: 't-2', score: 2, comment: PRICE },
      { responseId: 't-3', score: 0 },
      { responseId: 't-4', score: 3 },
      { responseId: 't-5', score: 6, comment: DELIVERY },
    ].map((r) => ({ surveyId, ...r }));
    await post(pipeline.url, items);
    await drained(pipeline.config);
    expect(responseIds(await allCases(pipeline.url, surveyId))).toEqual(['t-1', 't-3', 't-5']);
  });

  it("erasure removes a respondent's cases and their changes, and a replay does not bring them back", async () => {
    const env = casesEnv();
    cleanupPipeline(env);
    let pipeline = await startWithSink(env);
    const { config } = pipeline;
    const surveyId = uniqueName('case-erase');
    const kari = 'Kari.Nordmann@example.no';
    await post(pipeline.url, [
      {
        surveyId,
        responseId: 'e-1',
        score: 2,
        respondentId: kari,
        comment: 'Ingen ringede tilbage',
      },
      { surveyId, responseId: 'e-2', score: 4, respondentId: 'crm-42' },
      { surveyId, responseId: 'e-3', score: 1 },
    ]);
    await drained(config);
    const cases = await allCases(pipeline.url, surveyId);
    expect(responseIds(cases)).toEqual(['e-1', 'e-2', 'e-3']);
    const kariCase = cases.find((c) => c.responseId === 'e-1');
    if (!kariCase) throw new Error('no case of e-1');
    expect(kariCase.respondentId).toMatch(/^r_/); // the pseudonym, never the email
    expect(
      (await patch(pipeline.url, kariCase.caseId, { note: 'Kari vil ringes op efter kl. 16' }))
        .status,
    ).toBe(200);

    const changeRows = async () => {
      const result = await clickhouse().query({
        query: 'SELECT count() AS n FROM {db:Identifier}.case_changes WHERE case_id = {id:String}',
        query_params: { db: config.clickhouseDatabase, id: kariCase.caseId },
        format: 'JSONEachRow',
      });
      return Number((await result.json<{ n: string }>())[0]?.n);
    };
    expect(await changeRows()).toBe(1);
    const erased = await api(
      pipeline.url,
      `/v1/respondents/${encodeURIComponent(kari).replaceAll('.', '%2E')}`,
      { method: 'DELETE', key: ADMIN_KEY },
    );
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ casesDeleted: 1 });
    expect(responseIds(await allCases(pipeline.url, surveyId))).toEqual(['e-2', 'e-3']);
    expect(
      (await api(pipeline.url, `/v1/cases/${kariCase.caseId}`, { key: CASES_KEY })).status,
    ).toBe(404);
    expect(await changeRows()).toBe(0);

    await pipeline.close();
    await resetToStart(config);
    pipeline = await startWithSink(env);
    await drained(config, 60_000);
    expect(responseIds(await allCases(pipeline.url, surveyId))).toEqual(['e-2', 'e-3']);
  });

  it('erasing respondents while their responses stream in leaves no case of theirs from before the cut, and every other detractor has one', async () => {
    const env = casesEnv();
    cleanupPipeline(env);
    const pipeline = await startWithSink(env);
    const { url, config } = pipeline;
    const surveyId = uniqueName('case-erase-live');
    const respondents = Array.from({ length: 12 }, (_, i) => `crm-${String(i).padStart(4, '0')}`);
    const erasedIds = respondents.slice(0, 4);
    const sent: { responseId: string; respondentId: string; score: number }[] = [];
    const streaming = (async () => {
      for (let b = 0; b < 40; b++) {
        const body = Array.from({ length: 60 }, () => {
          const n = sent.length;
          const item = {
            responseId: `s-${n}`,
            respondentId: respondents[n % respondents.length] ?? '',
            score: n % 11,
          };
          sent.push(item);
          return { surveyId, ...item };
        });
        await post(url, body);
      }
    })();
    await eventually(
      async () => (await allCases(url, surveyId, '', 200)).length,
      (n) => n >= 150,
    );
    const cuts = new Map<string, number>();
    const answers = await Promise.all(
      erasedIds.map((id) =>
        api(url, `/v1/respondents/${id}`, { method: 'DELETE', key: ADMIN_KEY }),
      ),
    );
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(Number(a.body.casesDeleted)).toBeGreaterThan(0);
      cuts.set(erasedIds[i] ?? '', Date.parse(String(a.body.erasedBefore)));
    });
    await streaming;
    await drained(config, 60_000);

    const cases = await allCases(url, surveyId, '', 200);
    for (const c of cases) {
      const cut = cuts.get(c.respondentId ?? '');
      if (cut !== undefined) expect(Date.parse(c.openedAt), c.responseId).toBeGreaterThan(cut);
    }
    const kept = sent.filter((r) => r.score <= 6 && !cuts.has(r.respondentId));
    expect(responseIds(cases.filter((c) => !cuts.has(c.respondentId ?? '')))).toEqual(
      kept.map((r) => r.responseId).sort(),
    );
    // A case for exactly each detractor response history still holds.
    const result = await clickhouse().query({
      query: `SELECT response_id FROM {db:Identifier}.responses FINAL
              WHERE survey_id = {s:String} AND score <= 6`,
      query_params: { db: config.clickhouseDatabase, s: surveyId },
      format: 'JSONEachRow',
    });
    const stored = (await result.json<{ response_id: string }>()).map((r) => r.response_id).sort();
    expect(responseIds(cases)).toEqual(stored);
  });

  it(
    'kill -9 of the processor while responses stream through, then a replay of the whole topic: exactly one case per detractor',
    { timeout: 300_000 },
    async () => {
      const env = childEnv(casesEnv());
      cleanupPipeline(env);
      const config = loadConfig({ ...process.env, ...env });
      const ingest = await startChild(['--roles', 'ingest'], env);
      let processor: Child = await startChild(['--roles', 'process,api'], env);
      const surveyId = uniqueName('case-kill');
      const TOTAL = 3000;
      const BATCH = 100;
      const items = Array.from({ length: TOTAL }, (_, i) => ({
        surveyId,
        responseId: `k-${i}`,
        score: i % 11,
        channel: CHANNELS[i % 3],
        ...(i % 5 === 0 && { comment: DELIVERY }),
      }));
      // Three rounds: a third of the responses streams in (about 5 s) and the processor is killed
      // during it; the rest of the round reaches Kafka while it is down, and the next processor
      // starts on that backlog while the next round streams.
      let sent = 0;
      const stream = async (from: number, to: number) => {
        for (let at = from; at < to; at += BATCH) {
          await post(ingest.url, items.slice(at, at + BATCH));
          // Every fourth batch is sent again later: a client retry.
          if ((at / BATCH) % 4 === 3) await post(ingest.url, items.slice(at - BATCH, at));
          sent = at + BATCH;
          await sleep(400);
        }
      };
      const kills: string[] = [];
      for (let k = 0; k < 3; k++) {
        const round = stream((k * TOTAL) / 3, ((k + 1) * TOTAL) / 3);
        await sleep(randomInt(300, 3000));
        kills.push(`after ${sent} sent`);
        processor.process.kill('SIGKILL');
        await exited(processor.process);
        await round;
        processor = await startChild(['--roles', 'process,api'], env);
      }
      await drained(config, 90_000);
      const context = `kills: ${kills.join(', ')}`;
      const detractors = items
        .filter((r) => r.score <= 6)
        .map((r) => r.responseId)
        .sort();
      const listed = await allCases(processor.url, surveyId, '', 200);
      expect(listed.length, context).toBe(detractors.length);
      expect(responseIds(listed), context).toEqual(detractors);

      // Kill it once more and replay everything: still one case each.
      processor.process.kill('SIGKILL');
      await exited(processor.process);
      await resetWhenReleased(config.consumerGroup, config.topic);
      processor = await startChild(['--roles', 'process,api'], env);
      await drained(config, 90_000);
      const replayed = await allCases(processor.url, surveyId, '', 200);
      expect(replayed.length, context).toBe(detractors.length);
      expect(replayed, context).toEqual(listed);
    },
  );
});
