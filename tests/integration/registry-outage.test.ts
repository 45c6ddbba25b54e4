import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { stopDaemon } from '../../deploy/local/processes.js';
import { registryService } from '../../deploy/local/registry.js';
import { startService } from '../../deploy/local/stack.js';
import { loadConfig } from '../../src/config/config.js';
import { freePortPair } from '../support/net.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

describe('schema registry outage', () => {
  // A registry of the test's own, started with the local stack's code, so stopping it disturbs
  // no other test.
  it('responses keep flowing end to end on the cached schema while the registry is down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nps-registry-outage-'));
    const port = await freePortPair();
    const registry = registryService({
      config: loadConfig({
        ...process.env,
        NPS_STACK_DIR: dir,
        NPS_STACK_REGISTRY_PORT: String(port),
      }),
    });
    onTestFinished(async () => {
      await stopDaemon(registry.daemon, 5000);
      rmSync(dir, { recursive: true, force: true });
    });
    await startService(registry);

    const { url, config } = await startPipeline(['ingest', 'process', 'api'], pipelineEnv(), {
      schemaRegistryUrl: registry.address,
    });
    const surveyId = uniqueName('registry-down');
    const post = (score: number) =>
      api(url, '/v1/responses', { key: INGEST_KEY, body: { surveyId, score } });
    expect((await post(10)).status).toBe(202);
    await drained(config);

    await stopDaemon(registry.daemon, 10_000);
    expect((await fetch(`${registry.address}/subjects`).catch(() => null))?.ok ?? false).toBe(
      false,
    );
    for (const score of [9, 8, 3]) expect((await post(score)).status).toBe(202);

    await drained(config);
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body;
    expect(live).toMatchObject({ responses: 4, promoters: 2, passives: 1, detractors: 1 });
  });
});
