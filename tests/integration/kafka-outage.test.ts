import { describe, expect, it } from 'vitest';
import { kafkaService } from '../../deploy/local/kafka.js';
import { stopDaemon } from '../../deploy/local/processes.js';
import { startService } from '../../deploy/local/stack.js';
import { ownService } from '../support/own-service.js';
import { kafkaAdmin } from '../support/services.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  eventually,
  pipelineEnv,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

describe('Kafka outage', () => {
  it('ingest answers 503 with Retry-After while the broker is down, records nothing then, and recovers by itself; the processor rejoins its group', async () => {
    const broker = await ownService(kafkaService, 'NPS_STACK_KAFKA_PORT');
    const brokers = [broker.address];

    const env = pipelineEnv();
    const { url, config } = await startPipeline(['ingest', 'process', 'api'], env, {
      kafkaBrokers: brokers,
    });
    const surveyId = uniqueName('outage');
    const post = (score: number) =>
      api(url, '/v1/responses', { key: INGEST_KEY, body: { surveyId, score } });
    expect((await post(10)).status).toBe(202);

    await stopDaemon(broker.daemon, 10_000);
    const before = Date.now();
    const refused = await post(0);
    // Within seconds, not after a long client-side retry loop.
    expect(Date.now() - before).toBeLessThan(15_000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.detail).toContain('nothing was recorded');
    const ready = await api(url, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.unreachable).toEqual(['kafka']);

    await startService(broker);
    const accepted = await eventually(
      () => post(9),
      (r) => r.status === 202,
      60_000,
    );
    expect(accepted.status).toBe(202);

    await drained(config, 90_000, brokers);
    const live = await eventually(
      async () => (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body,
      (b) => b.responses === 2,
    );
    expect(live).toMatchObject({ responses: 2, promoters: 2, detractors: 0 });
    // The processor is back in its group, not a leftover member waiting to time out.
    const admin = await kafkaAdmin(brokers);
    const { groups } = await admin.describeGroups([config.consumerGroup]);
    expect(groups[0]).toMatchObject({ state: 'Stable' });
    expect(groups[0]?.members).toHaveLength(1);
  });
});
