import { describe, expect, it } from 'vitest';
import { normalizedResponse } from '../../src/domain/response.js';
import type { Channel } from '../../src/domain/response.js';
import {
  ERASED,
  FIRST_COPY,
  FIRST_COPY_REPLAYED,
  LiveWindows,
  REPEAT,
} from '../../src/storage/live-windows.js';
import type { LiveRecord } from '../../src/storage/live-windows.js';
import { redis, uniqueName } from '../support/services.js';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 22, 10, 15, 30);

function record(
  offset: number,
  fields: {
    responseId: string;
    surveyId: string;
    score: number;
    channel?: Channel;
    respondentId?: string;
  },
): LiveRecord {
  return {
    partition: 0,
    offset: String(offset),
    response: normalizedResponse({
      channel: 'web',
      respondedAt: NOW - 2 * MINUTE,
      receivedAt: NOW - 2 * MINUTE,
      ...fields,
    }),
  };
}

describe('LiveWindows on Redis', () => {
  it('counts each first copy once, skips a repeat, and a replayed batch counts nothing again', async () => {
    const { client, prefix } = await redis();
    const live = new LiveWindows(client, { prefix, dedupeDays: 35 });
    const surveyId = uniqueName('live');
    const topic = uniqueName('topic');
    const batch = [
      record(0, { responseId: 'a', surveyId, score: 10 }),
      record(1, { responseId: 'b', surveyId, score: 3, channel: 'sms' }),
      record(2, { responseId: 'a', surveyId, score: 10 }),
      record(3, { responseId: 'c', surveyId, score: 8, channel: 'sms' }),
    ];
    const first = await live.applyPartitionBatch(topic, 0, batch, NOW);
    expect(first.outcomes).toEqual([FIRST_COPY, FIRST_COPY, REPEAT, FIRST_COPY]);
    // The same records again, as Kafka replays them after a crash before the commit.
    const again = await live.applyPartitionBatch(topic, 0, batch, NOW);
    expect(again.outcomes).toEqual([
      FIRST_COPY_REPLAYED,
      FIRST_COPY_REPLAYED,
      REPEAT,
      FIRST_COPY_REPLAYED,
    ]);

    for (const window of ['15m', '24h', '30d'] as const) {
      expect(await live.read(surveyId, null, window, NOW), window).toMatchObject({
        promoters: 1,
        passives: 1,
        detractors: 1,
      });
    }
    expect(await live.read(surveyId, 'sms', '1h', NOW)).toMatchObject({
      promoters: 0,
      passives: 1,
      detractors: 1,
    });
    // An hour later the 15-minute window no longer reaches them.
    expect(await live.read(surveyId, null, '15m', NOW + 60 * MINUTE)).toMatchObject({
      promoters: 0,
      passives: 0,
      detractors: 0,
    });

    // A bucket lives until the longest window (30 days) can no longer reach its end.
    const minute = Math.floor((NOW - 2 * MINUTE) / MINUTE);
    const bucket = `${prefix}live:${surveyId}:*:m:${minute}`;
    expect(await client.hgetall(bucket)).toEqual({ p: '1', s: '1', d: '1' });
    expect(await client.expiretime(bucket)).toBe((minute + 1 + 30 * 1440) * 60);
  });

  it('an erased respondent is taken out of the windows and never counted again, whenever replayed', async () => {
    const { client, prefix } = await redis();
    const live = new LiveWindows(client, { prefix, dedupeDays: 35, erasureSecret: 'erasure-key' });
    const surveyId = uniqueName('erase');
    const topic = uniqueName('topic');
    const theirs = record(0, { responseId: 'x', surveyId, score: 2, respondentId: 'p-1' });
    const others = record(1, { responseId: 'y', surveyId, score: 9, respondentId: 'p-2' });
    await live.applyPartitionBatch(topic, 0, [theirs, others], NOW);
    const before = await live.erasureCount();

    expect(await live.erase('p-1', NOW)).toEqual({ cut: NOW, removed: 1 });
    expect(await live.read(surveyId, null, '24h', NOW)).toMatchObject({
      promoters: 1,
      passives: 0,
      detractors: 0,
    });
    expect(await live.erasureCount()).toBe(before + 1);
    expect((await live.erasedUpTo(['p-1', 'p-2'])).get('p-1')).toBe(NOW);

    // Replayed on another partition (no fence there): still never counted.
    const replay = await live.applyPartitionBatch(topic, 1, [{ ...theirs, partition: 1 }], NOW);
    expect(replay.outcomes).toEqual([ERASED]);
    expect(await live.erase('p-1', NOW + 1)).toEqual({ cut: NOW + 1, removed: 0 });
    expect(await live.read(surveyId, null, '24h', NOW)).toMatchObject({ detractors: 0 });
  });
});
