import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { normalizedResponse } from '../../src/domain/response.js';
import type { ShiftEvent } from '../../src/domain/shift-event.js';
import {
  FIRST_COPY,
  FIRST_COPY_REPLAYED,
  LiveWindows,
  REPEAT,
} from '../../src/storage/live-windows.js';
import { createRedis } from '../../src/storage/redis.js';
import { childEnv, exited, startChild } from '../support/child.js';
import type { Child } from '../support/child.js';
import { historyTotals, liveCounts } from '../support/counts.js';
import { clickhouse, endpoints, kafkaAdmin, redis } from '../support/services.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  cleanupPipeline,
  drained,
  eventually,
  pipelineEnv,
  resetWhenReleased,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

const CHANNELS = ['web', 'sms', 'email'] as const;
const RESTRICTED_KEY = 'test-restricted-read-key-0123456789';

/**
 * `count` responses all with the same score, three channels in turn. Each phase of these tests is
 * constant on purpose: Kafka hands the processor its three partitions interleaved in an order that
 * differs from run to run, and with mixed answers that order decides whether (and where) a CUSUM
 * crosses its threshold: a simulation of the earlier mixed phases in shuffled order alarmed during
 * the stable phase in 1.5 % of runs and put `after` above -10 in 20 %. With constant phases every
 * order gives the same statistics. How the detector behaves on random answers is
 * tests/unit/shift-simulation.test.ts's job.
 */
function responses(surveyId: string, from: number, count: number, score: number) {
  return Array.from({ length: count }, (_, i) => ({
    surveyId,
    responseId: `${surveyId}-${String(from + i)}`,
    score,
    channel: CHANNELS[(from + i) % CHANNELS.length],
  }));
}

async function post(url: string, items: readonly unknown[]): Promise<void> {
  for (let start = 0; start < items.length; start += 1000) {
    const res = await api(url, '/v1/responses', {
      key: INGEST_KEY,
      body: items.slice(start, start + 1000),
    });
    expect(res.status).toBe(202);
  }
}

/** Reads Server-Sent Events into `events` until `until` is satisfied. */
async function readEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  events: string[],
  until: (events: string[]) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  // A stream that never sends what is awaited fails the test instead of holding it.
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended or timed out; events: ${events.join(' | ')}`);
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        events.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

function dataOf(events: string[], name: string): unknown[] {
  return events
    .filter((e) => e.startsWith(`event: ${name}\n`))
    .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as unknown);
}

describe('NPS shifts', () => {
  it(
    'a sharp drop of the NPS raises one down shift, listed and pushed on the stream, and a replay of the whole topic raises none again',
    { timeout: 240_000 },
    async () => {
      const env = { ...pipelineEnv(), NPS_SHIFT_WARM_UP: '500' };
      const pipeline = await startPipeline(undefined, env);
      const { url, config } = pipeline;
      const surveyId = uniqueName('shift');
      const since = new Date(Date.now() - 60_000).toISOString();
      const shifts = async (base: string, extra = '') =>
        api(base, `/v1/nps/shifts?surveyId=${surveyId}&from=${since}${extra}`, { key: READ_KEY });

      const controller = new AbortController();
      onTestFinished(() => {
        controller.abort();
      });
      const stream = await fetch(`${url}/v1/nps/stream?surveyId=${surveyId}&window=1h`, {
        headers: { authorization: `Bearer ${READ_KEY}` },
        signal: controller.signal,
      });
      const reader = stream.body?.getReader();
      if (!reader) throw new Error('no body');
      const events: string[] = [];
      await readEvents(reader, events, (e) => dataOf(e, 'nps').length > 0);

      // 1,800 passives, 600 per channel: every detector learns its baseline (NPS 0), no alarm.
      await post(url, responses(surveyId, 0, 1800, 8));
      await drained(config, 60_000);
      expect((await shifts(url)).body.shifts).toEqual([]);

      // Then 600 detractors.
      await post(url, responses(surveyId, 1800, 600, 3));
      await drained(config, 60_000);
      const listed = await eventually(
        () => shifts(url),
        (r) => (r.body.shifts as unknown[]).length > 0,
      );
      expect(listed.status).toBe(200);
      const found = listed.body.shifts as ShiftEvent[];
      expect(found).toHaveLength(1);
      const [shift] = found;
      expect(shift).toMatchObject({ surveyId, channel: null, direction: 'down' });
      // The baseline learns the first few detractors until the statistic passes the freeze level
      // (a quarter of the threshold), so it ends a little below 0. Every answer since the change
      // point is a detractor. A baseline of passives has no variance, so the floor (0.1) applies and
      // each detractor adds about 1 / sqrt(0.1) - 0.08 = 3.08 standard deviations: the threshold, 55,
      // is crossed at the 18th.
      expect(shift?.before).toBeLessThanOrEqual(0);
      expect(shift?.before).toBeGreaterThan(-1);
      expect(shift?.after).toBe(-100);
      expect(shift?.responsesSinceChange).toBe(Math.ceil(55 / (1 / Math.sqrt(0.1) - 0.08)));
      expect(Date.parse(shift?.detectedAt ?? '')).toBeGreaterThan(Date.parse(since));
      // Each channel's detector sees its own third of the drop.
      for (const channel of CHANNELS) {
        const own = (await shifts(url, `&channel=${channel}`)).body;
        expect(own.channel).toBe(channel);
        expect(own.shifts, channel).toEqual([
          expect.objectContaining({ channel, direction: 'down' }),
        ]);
      }

      // The open stream got the survey's shift, once.
      await readEvents(reader, events, (e) => dataOf(e, 'shift').length > 0);
      expect(dataOf(events, 'shift')).toEqual([shift]);

      // Nothing is left on its way to ClickHouse.
      const client = createRedis(endpoints().redisUrl, 'consumer');
      await client.connect();
      onTestFinished(() => {
        client.disconnect();
      });
      expect(await client.hlen(`${config.redisPrefix}shifts:pending`)).toBe(0);

      // Kafka replays the whole topic into a fresh processor: no shift is raised or stored again,
      // and not because a merge folded a repeated row (merges are stopped).
      const rowCount = async () => {
        const result = await clickhouse().query({
          query: 'SELECT count() AS n FROM {db:Identifier}.shifts WHERE survey_id = {s:String}',
          query_params: { db: config.clickhouseDatabase, s: surveyId },
          format: 'JSONEachRow',
        });
        return Number((await result.json<{ n: string }>())[0]?.n);
      };
      const rowsBefore = await rowCount();
      expect(rowsBefore).toBe(4);
      await clickhouse().command({
        query: 'SYSTEM STOP MERGES {db:Identifier}.shifts',
        query_params: { db: config.clickhouseDatabase },
      });
      controller.abort();
      await pipeline.close();
      const admin = await kafkaAdmin();
      await admin.resetOffsets({
        groupId: config.consumerGroup,
        topic: config.topic,
        earliest: true,
      });
      const replayed = await startPipeline(undefined, env);
      await drained(config, 60_000);
      expect((await shifts(replayed.url)).body.shifts).toEqual(found);
      expect(await rowCount()).toBe(rowsBefore);
      expect(await client.hlen(`${config.redisPrefix}shifts:pending`)).toBe(0);
    },
  );

  it('a shift left pending in Redis by a crash before its ClickHouse insert is stored when a processor starts, once', async () => {
    const base = pipelineEnv();
    const env = {
      ...base,
      NPS_API_KEYS: `${base.NPS_API_KEYS ?? ''},${RESTRICTED_KEY}:read:other.survey`,
    };
    const surveyId = uniqueName('pending');
    const client = createRedis(endpoints().redisUrl, 'consumer');
    await client.connect();
    onTestFinished(() => {
      client.disconnect();
    });
    const pending: ShiftEvent = {
      shiftId: 'a'.repeat(32),
      surveyId,
      channel: 'sms',
      direction: 'up',
      before: 12.5,
      after: 40,
      detectedAt: new Date(Date.now() - 5000).toISOString(),
      responsesSinceChange: 321,
    };
    const key = `${base.NPS_REDIS_PREFIX ?? ''}shifts:pending`;
    onTestFinished(async () => {
      await client.del(key);
    });
    await client.hset(key, pending.shiftId, JSON.stringify(pending));

    const { url } = await startPipeline(undefined, env);
    const since = new Date(Date.now() - 60_000).toISOString();
    const path = `/v1/nps/shifts?surveyId=${surveyId}&from=${since}&channel=sms`;
    const listed = await api(url, path, { key: READ_KEY });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ surveyId, channel: 'sms', shifts: [pending] });
    expect(await client.hlen(key)).toBe(0);
    // The all-channel list is another detector's.
    const all = await api(url, `/v1/nps/shifts?surveyId=${surveyId}&from=${since}`, {
      key: READ_KEY,
    });
    expect(all.body.shifts).toEqual([]);

    // Bad input is named, field by field; keys see only their surveys.
    const bad = await api(url, '/v1/nps/shifts?surveyId=a%20b&from=yesterday&channel=fax', {
      key: READ_KEY,
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    for (const field of ['surveyId', 'from', 'channel'])
      expect(String(bad.body.detail)).toContain(field);
    expect((await api(url, path)).status).toBe(401);
    expect((await api(url, path, { key: INGEST_KEY })).status).toBe(403);
    expect((await api(url, path, { key: RESTRICTED_KEY })).status).toBe(403);
  });

  it(
    'kill -9 of the processor while a drop streams through, then a replay of the whole topic: one shift, stored once, counts exact',
    { timeout: 300_000 },
    async () => {
      const env = childEnv({ ...pipelineEnv(), NPS_SHIFT_WARM_UP: '500' });
      cleanupPipeline(env);
      const config = loadConfig({ ...process.env, ...env });
      const ingest = await startChild(['--roles', 'ingest'], env);
      let processor: Child = await startChild(['--roles', 'process,api'], env);
      const surveyId = uniqueName('shiftkill');
      const stable = responses(surveyId, 0, 1800, 8);
      const drop = responses(surveyId, 1800, 600, 3);
      await post(ingest.url, stable);
      await drained(config, 60_000);

      // The drop comes in small batches while the processor is killed three times.
      const streaming = (async () => {
        for (let start = 0; start < drop.length; start += 50) {
          await post(ingest.url, drop.slice(start, start + 50));
          await sleep(300);
        }
      })();
      const kills: number[] = [];
      for (let k = 0; k < 3; k++) {
        const wait = randomInt(200, 2500);
        kills.push(wait);
        await sleep(wait);
        processor.process.kill('SIGKILL');
        await exited(processor.process);
        processor = await startChild(['--roles', 'process,api'], env);
      }
      await streaming;
      await drained(config, 90_000);
      const context = `kills after ${kills.join(', ')} ms`;

      const since = new Date(Date.now() - 3_600_000).toISOString();
      const list = async (url: string, extra = '') =>
        (
          await api(url, `/v1/nps/shifts?surveyId=${surveyId}&from=${since}${extra}`, {
            key: READ_KEY,
          })
        ).body.shifts as ShiftEvent[];
      const found = await list(processor.url);
      expect(found, context).toEqual([
        expect.objectContaining({ surveyId, channel: null, direction: 'down' }),
      ]);
      const perChannel = await Promise.all(
        CHANNELS.map((c) => list(processor.url, `&channel=${c}`)),
      );
      for (const shifts of perChannel) expect(shifts.length, context).toBeLessThanOrEqual(1);

      const all = [...stable, ...drop];
      const counts = {
        responses: all.length,
        promoters: all.filter((r) => r.score === 10).length,
        passives: all.filter((r) => r.score === 8).length,
        detractors: all.filter((r) => r.score === 3).length,
      };
      expect(await liveCounts(processor.url, surveyId), context).toMatchObject(counts);
      expect(
        await eventually(
          () => historyTotals(processor.url, surveyId),
          (t) => t.responses >= counts.responses,
          60_000,
        ),
        context,
      ).toEqual(counts);

      // Kill it once more and replay everything: the same shifts, nothing pending.
      processor.process.kill('SIGKILL');
      await exited(processor.process);
      await resetWhenReleased(config.consumerGroup, config.topic);
      processor = await startChild(['--roles', 'process,api'], env);
      await drained(config, 90_000);
      expect(await list(processor.url), context).toEqual(found);
      expect(
        await Promise.all(CHANNELS.map((c) => list(processor.url, `&channel=${c}`))),
        context,
      ).toEqual(perChannel);
      expect(
        await eventually(
          () => historyTotals(processor.url, surveyId),
          (t) => t.responses >= counts.responses,
          60_000,
        ),
        context,
      ).toEqual(counts);
      const client = createRedis(endpoints().redisUrl, 'consumer');
      await client.connect();
      onTestFinished(() => {
        client.disconnect();
      });
      expect(await client.hlen(`${config.redisPrefix}shifts:pending`)).toBe(0);
    },
  );

  it('the batch script tells a first copy counted now from one replayed at or below the fence', async () => {
    const { client, prefix } = await redis();
    const live = new LiveWindows(client, { prefix, dedupeDays: 35 });
    const now = Date.now();
    const record = (responseId: string, offset: string) => ({
      partition: 0,
      offset,
      response: normalizedResponse({
        responseId,
        surveyId: 'fence',
        channel: 'web',
        score: 9,
        respondedAt: now,
        receivedAt: now,
      }),
    });
    const batch = [record('r1', '0'), record('r2', '1'), record('r1', '2')];
    const first = await live.applyPartitionBatch('t', 0, batch, now);
    expect(first.outcomes).toEqual([FIRST_COPY, FIRST_COPY, REPEAT]);
    const replay = await live.applyPartitionBatch('t', 0, [...batch, record('r3', '3')], now);
    expect(replay.outcomes).toEqual([FIRST_COPY_REPLAYED, FIRST_COPY_REPLAYED, REPEAT, FIRST_COPY]);
  });
});
