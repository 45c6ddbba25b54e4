import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { stopDaemon } from '../../deploy/local/processes.js';
import { redisService } from '../../deploy/local/redis.js';
import { startService } from '../../deploy/local/stack.js';
import { batch, expected, historyTotals, liveCounts } from '../support/counts.js';
import { ownService } from '../support/own-service.js';
import {
  INGEST_KEY,
  api,
  drained,
  eventually,
  pipelineEnv,
  rebuildLiveIn,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

describe('Redis restarted with its data gone', () => {
  it('nps rebuild-live restores exact live counts, and repeats of old responses still count once', async () => {
    const own = await ownService(redisService, 'NPS_STACK_REDIS_PORT');
    const redisUrl = own.address;
    const env = pipelineEnv();
    const first = await startPipeline(undefined, env, { redisUrl });
    const { config } = first;
    const surveyId = uniqueName('redis-loss');
    const post = async (url: string, from: number, count: number) => {
      const res = await api(url, '/v1/responses', {
        key: INGEST_KEY,
        body: batch(surveyId, from, count),
      });
      expect(res.status).toBe(202);
    };
    await post(first.url, 0, 300);
    await drained(config);
    expect(await liveCounts(first.url, surveyId)).toMatchObject(expected(300));

    // Redis goes away with everything it held; ingest does not need it and keeps accepting.
    await stopDaemon(own.daemon, 10_000);
    rmSync(join(dirname(own.daemon.pidFile), 'appendonlydir'), { recursive: true, force: true });
    await post(first.url, 300, 100);
    await startService(own);
    const client = new Redis(redisUrl);
    onTestFinished(() => {
      client.disconnect();
    });
    expect(await client.dbsize()).toBeLessThan(300);

    // The documented recovery: stop the processors, rebuild, start them again.
    await first.close();
    const rebuilt = await rebuildLiveIn(config, client);
    expect(rebuilt.responses).toBeGreaterThanOrEqual(300);
    const second = await startPipeline(undefined, env, { redisUrl });
    await drained(config, 60_000);
    expect(await liveCounts(second.url, surveyId)).toMatchObject(expected(400));

    await post(second.url, 0, 100); // repeats
    await post(second.url, 400, 100);
    await drained(config);
    expect(await liveCounts(second.url, surveyId)).toMatchObject(expected(500));
    expect(
      await eventually(
        () => historyTotals(second.url, surveyId),
        (t) => t.responses >= 500,
      ),
    ).toEqual(expected(500));
  });
});
