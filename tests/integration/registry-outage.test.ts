import { describe, expect, it } from 'vitest';
import { stopDaemon } from '../../deploy/local/processes.js';
import { registryService } from '../../deploy/local/registry.js';
import { ownService } from '../support/own-service.js';
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
  it('responses keep flowing end to end on the cached schema while the registry is down', async () => {
    const registry = await ownService(registryService, 'NPS_STACK_REGISTRY_PORT');

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
