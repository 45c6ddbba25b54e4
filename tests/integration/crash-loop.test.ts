import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { childEnv, exited, startChild } from '../support/child.js';
import type { Child } from '../support/child.js';
import { batch, expected, historyTotals, liveCounts } from '../support/counts.js';
import {
  INGEST_KEY,
  READ_KEY,
  api,
  cleanupPipeline,
  drained,
  eventually,
  pipelineEnv,
  uniqueName,
} from '../support/pipeline.js';

const TOTAL = 21_000;
// Every fourth response writes about delivery, the next one about price: derived tags must be
// exactly once too.
const COMMENTS = ['Pakken kom alt for sent', 'Prisen er alt for høj', null, null];
const BATCH = 250;
const KILLS = 4;

describe('processor crash loop', () => {
  it(
    `kill -9 of the processor ${KILLS} times at random points while ${TOTAL} responses (and repeats) stream through: every one counted exactly once`,
    { timeout: 240_000 },
    async () => {
      const env = childEnv(pipelineEnv());
      cleanupPipeline(env);
      const config = loadConfig({ ...process.env, ...env });
      const ingest = await startChild(['--roles', 'ingest'], env);
      let processor: Child = await startChild(['--roles', 'process,api'], env);
      const surveyId = uniqueName('crashloop');
      const post = async (from: number) => {
        const res = await api(ingest.url, '/v1/responses', {
          key: INGEST_KEY,
          body: batch(surveyId, from, BATCH).map((r, i) => {
            const comment = COMMENTS[(from + i) % COMMENTS.length];
            return comment ? { ...r, comment } : r;
          }),
        });
        expect(res.status).toBe(202);
      };

      // About 25 s of steady traffic; every fifth batch is also sent again later (a client retry).
      let sent = 0;
      const streaming = (async () => {
        for (let from = 0; from < TOTAL; from += BATCH) {
          await post(from);
          if ((from / BATCH) % 5 === 4) await post(from - 2 * BATCH);
          sent = from + BATCH;
          await sleep(250);
        }
      })();

      const kills: string[] = [];
      for (let k = 0; k < KILLS; k++) {
        await sleep(randomInt(1500, 5000));
        kills.push(`after ${sent} sent`);
        processor.process.kill('SIGKILL');
        await exited(processor.process);
        await sleep(randomInt(0, 1500));
        processor = await startChild(['--roles', 'process,api'], env);
      }
      await streaming;
      try {
        await drained(config, 90_000);
      } catch (error) {
        console.log(processor.output().slice(-5000));
        throw error;
      }

      const context = `kills: ${kills.join(', ')}`;
      expect(await liveCounts(processor.url, surveyId), context).toMatchObject(expected(TOTAL));
      expect(
        await eventually(
          () => historyTotals(processor.url, surveyId),
          (t) => t.responses >= TOTAL,
          60_000,
        ),
        context,
      ).toEqual(expected(TOTAL));

      const since = new Date(Date.now() - 86_400_000).toISOString();
      const themes = await api(processor.url, `/v1/nps/themes?surveyId=${surveyId}&from=${since}`, {
        key: READ_KEY,
      });
      const mentions = (theme: string) =>
        (themes.body.themes as { theme: string; mentions: number }[]).find((t) => t.theme === theme)
          ?.mentions;
      const every = (offset: number) =>
        Array.from({ length: TOTAL }, (_, n) => n).filter((n) => n % COMMENTS.length === offset)
          .length;
      expect(themes.body, context).toMatchObject({ responses: TOTAL, commented: 2 * every(0) });
      expect(mentions('delivery'), context).toBe(every(0));
      expect(mentions('price'), context).toBe(every(1));
    },
  );
});
