import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { childEnv, exited, runCli, startChild } from '../support/child.js';
import { redis } from '../support/services.js';
import { batch, expected, historyTotals } from '../support/counts.js';
import type { Counts } from '../support/counts.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  cleanupPipeline,
  drained,
  eventually,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

describe('nps processes', () => {
  it('nps start runs every role in one child process, reached only over HTTP', async () => {
    const env = childEnv(pipelineEnv());
    cleanupPipeline(env);
    const nps = await startChild([], env);
    const surveyId = uniqueName('e2e');

    const posted = await api(nps.url, '/v1/responses', {
      key: INGEST_KEY,
      body: batch(surveyId, 0, 22),
    });
    expect(posted.status).toBe(202);
    const live = await eventually(
      async () =>
        (await api(nps.url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body as Counts,
      (l) => l.responses >= 22,
    );
    expect(live).toMatchObject(expected(22));
    expect(
      await eventually(
        () => historyTotals(nps.url, surveyId),
        (t) => t.responses >= 22,
      ),
    ).toEqual(expected(22));

    // An open live stream must not hold the shutdown.
    const controller = new AbortController();
    onTestFinished(() => {
      controller.abort();
    });
    const stream = await fetch(`${nps.url}/v1/nps/stream?surveyId=${surveyId}`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    nps.process.kill('SIGTERM');
    expect(await exited(nps.process)).toBe(0);
  });

  it('nps demo sends the asked rate through the public API for the asked time', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('demo');
    const { code, output } = await runCli(
      ['demo', '--rate', '25', '--duration', '2', '--survey', surveyId, '--url', url],
      { NPS_API_KEYS: `${INGEST_KEY}:ingest` },
    );
    expect(output).toContain('done: 50 responses accepted');
    expect(code).toBe(0);
    await drained(config);
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY }))
      .body as Counts;
    expect(live.responses).toBe(50);
  });

  it('SIGTERM under load loses nothing accepted, and client retries with the same ids count once', async () => {
    const env = childEnv(pipelineEnv());
    cleanupPipeline(env);
    const config = loadConfig({ ...process.env, ...env });
    let nps = await startChild([], env);
    const surveyId = uniqueName('sigterm');
    const batches = Array.from({ length: 40 }, (_, i) => batch(surveyId, i * 50, 50));
    let accepted = 0;
    let firstAccepted: () => void = () => undefined;
    const oneAccepted = new Promise<void>((resolve) => (firstAccepted = resolve));
    const sendAll = async (base: () => string) =>
      Promise.all(
        batches.map(async (body, i) => {
          await new Promise((r) => setTimeout(r, i * 25));
          try {
            const res = await api(base(), '/v1/responses', { key: INGEST_KEY, body });
            if (res.status === 202) firstAccepted();
            return res.status;
          } catch {
            return 0; // connection refused or reset: the client does not know
          }
        }),
      );
    const load = sendAll(() => nps.url);
    // Stop once the load is under way, however slowly a busy machine gets there.
    await Promise.race([oneAccepted, load]);
    nps.process.kill('SIGTERM');
    const statuses = await load;
    expect(await exited(nps.process)).toBe(0);
    accepted = statuses.filter((s) => s === 202).length * 50;
    // Requests on open keep-alive connections may still be served while the server drains.
    expect(accepted).toBeGreaterThan(0);

    nps = await startChild([], env);
    await drained(config);
    const liveNow = async () =>
      ((await api(nps.url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body as Counts)
        .responses;
    // Everything answered 202 is there; what failed may or may not be.
    const afterRestart = await liveNow();
    expect(afterRestart).toBeGreaterThanOrEqual(accepted);
    expect(afterRestart).toBeLessThanOrEqual(2000);

    // The clients retry everything with the same responseIds: exactly the 2,000 distinct responses.
    const retried = await sendAll(() => nps.url);
    expect(retried.every((s) => s === 202)).toBe(true);
    await drained(config);
    expect(await liveNow()).toBe(2000);
    expect(
      await eventually(
        () => historyTotals(nps.url, surveyId),
        (t) => t.responses >= 2000,
      ),
    ).toEqual(expected(2000));
  });

  it('after Redis lost its data, nps rebuild-live restores exact live counts and the dedupe marks', async () => {
    const env = childEnv(pipelineEnv());
    cleanupPipeline(env);
    const config = loadConfig({ ...process.env, ...env });
    let nps = await startChild([], env);
    const surveyId = uniqueName('rebuild');
    const post = async (from: number, count: number) => {
      const res = await api(nps.url, '/v1/responses', {
        key: INGEST_KEY,
        body: batch(surveyId, from, count),
      });
      expect(res.status).toBe(202);
    };
    await post(0, 300);
    await drained(config);
    const liveNow = async () =>
      (await api(nps.url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body as Counts;
    expect(await liveNow()).toMatchObject(expected(300));

    nps.process.kill('SIGTERM');
    expect(await exited(nps.process)).toBe(0);
    const { client } = await redis();
    const lost = await client.keys(`${config.redisPrefix}*`);
    expect(lost.length).toBeGreaterThan(300);
    await client.del(...lost);

    const rebuilt = await runCli(['rebuild-live'], env);
    expect(rebuilt.output).toContain('rebuilt live windows from 300 stored responses');
    expect(rebuilt.code).toBe(0);

    nps = await startChild([], env);
    expect(await liveNow()).toMatchObject(expected(300));
    // Repeats of stored responses still count once; new ones count.
    await post(0, 100);
    await post(300, 100);
    await drained(config);
    expect(await liveNow()).toMatchObject(expected(400));
    expect(
      await eventually(
        () => historyTotals(nps.url, surveyId),
        (t) => t.responses >= 400,
      ),
    ).toEqual(expected(400));
  });

  it('a second process on the same embedded ClickHouse folder fails at start, saying why', async () => {
    // Always the embedded engine here, whatever the run's ClickHouse is: the lock is what is tested.
    const folder = mkdtempSync(join(tmpdir(), 'nps-locked-'));
    onTestFinished(() => {
      rmSync(folder, { recursive: true, force: true });
    });
    const env = { ...childEnv(pipelineEnv()), CLICKHOUSE_URL: '', CLICKHOUSE_PATH: folder };
    cleanupPipeline(env);
    await startChild(['--roles', 'process,api'], env);
    await expect(startChild(['--roles', 'api'], env)).rejects.toThrow(
      /Cannot open the embedded ClickHouse data folder .* another process owns it/,
    );
  });

  it('a processor killed with SIGKILL mid-stream and restarted counts every response exactly once', async () => {
    const env = childEnv(pipelineEnv());
    cleanupPipeline(env);
    const config = loadConfig({ ...process.env, ...env });
    const ingest = await startChild(['--roles', 'ingest'], env);
    let processor = await startChild(['--roles', 'process,api'], env);
    const surveyId = `crash-${randomUUID()}`;
    const total = 6000;
    const post = async (from: number, count: number) => {
      const res = await api(ingest.url, '/v1/responses', {
        key: INGEST_KEY,
        body: batch(surveyId, from, count),
      });
      expect(res.status).toBe(202);
    };

    for (let from = 0; from < 3000; from += 500) await post(from, 500);
    // Kill it while it is working through the stream, before it has seen everything.
    await eventually(
      async () =>
        (
          (await api(processor.url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY }))
            .body as Counts
        ).responses,
      (n) => n > 0,
    );
    processor.process.kill('SIGKILL');
    await exited(processor.process);

    // More responses, and repeats of earlier ones (a client retrying), while no processor runs.
    for (let from = 3000; from < total; from += 500) await post(from, 500);
    await post(1000, 500);
    await post(5500, 500);

    processor = await startChild(['--roles', 'process,api'], env);
    await drained(config, 60_000);
    const live = (await api(processor.url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY }))
      .body as Counts;
    expect(live).toMatchObject(expected(total));
    expect(
      await eventually(
        () => historyTotals(processor.url, surveyId),
        (t) => t.responses >= total,
      ),
    ).toEqual(expected(total));
  });
});
