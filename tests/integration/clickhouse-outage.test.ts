import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { uncommitted } from '../../src/kafka/topics.js';
import { batch, expected, historyTotals, liveCounts } from '../support/counts.js';
import { clickhouse, kafkaAdmin } from '../support/services.js';
import {
  INGEST_KEY,
  api,
  drained,
  eventually,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

const OUTAGE_MS = 32_000;

async function lag(config: Config): Promise<number> {
  return uncommitted(await kafkaAdmin(), config.topic, config.consumerGroup);
}

describe('ClickHouse outage', () => {
  it(
    'the processor pauses while ClickHouse refuses writes for 30 s, /readyz names it, lag grows, and it catches up exactly',
    { timeout: 150_000 },
    async () => {
      const { url, config } = await startPipeline();
      const surveyId = uniqueName('chdown');
      const post = async (from: number, count: number) => {
        const res = await api(url, '/v1/responses', {
          key: INGEST_KEY,
          body: batch(surveyId, from, count),
        });
        expect(res.status).toBe(202);
      };
      await post(0, 100);
      await drained(config);

      // A real engine-side failure: the table the processor writes to is gone until re-attached.
      const db = { db: config.clickhouseDatabase };
      await clickhouse().command({
        query: 'DETACH TABLE {db:Identifier}.responses',
        query_params: db,
      });
      const downSince = Date.now();
      for (let from = 100; from < 1100; from += 250) await post(from, 250);
      await post(500, 200); // a client retrying: repeats count once

      const notReady = await eventually(
        () => api(url, '/readyz'),
        (r) => r.status === 503,
      );
      expect(notReady.body.unreachable).toEqual(['clickhouse']);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^nps_history_sink_up 0$/m);

      // Ingest keeps accepting while history is down; nothing is committed past the failure.
      await sleep(Math.max(0, OUTAGE_MS / 2 - (Date.now() - downSince)));
      await post(1100, 100);
      const lagMidway = await lag(config);
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downSince)));
      const lagAtEnd = await lag(config);
      expect(lagMidway).toBe(1300);
      expect(lagAtEnd).toBe(1300);
      expect((await api(url, '/readyz')).status).toBe(503);

      await clickhouse().command({
        query: 'ATTACH TABLE {db:Identifier}.responses',
        query_params: db,
      });
      // Backoff is capped at 15 s, so it is back within that plus the catch-up.
      await drained(config, 60_000);
      expect(await lag(config)).toBe(0);
      expect((await api(url, '/readyz')).status).toBe(200);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^nps_history_sink_up 1$/m);
      expect(await liveCounts(url, surveyId)).toMatchObject(expected(1200));
      expect(
        await eventually(
          () => historyTotals(url, surveyId),
          (t) => t.responses >= 1200,
        ),
      ).toEqual(expected(1200));
    },
  );
});
