/**
 * End-to-end benchmark: synthetic responses produced straight into Kafka (Avro, as ingest would),
 * processed by a real stream processor into Redis and ClickHouse, read back over HTTP.
 *
 * Reports per run: throughput (responses/s from the first produce until /v1/nps/live shows all of
 * them) and freshness (produce -> visible in /v1/nps/live) of probe responses sent every 50 ms
 * during the load, p50 and p99. Then the medians over the runs.
 *
 *   npm run bench -- --responses 50000 --runs 3
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { up } from '../deploy/local/stack.js';
import { loadConfig } from '../src/config/config.js';
import { normalizedResponse } from '../src/domain/response.js';
import type { NpsResponse } from '../src/domain/response.js';
import { ResponseCodec } from '../src/kafka/response-codec.js';
import { start } from '../src/start.js';

const { values } = parseArgs({
  options: {
    responses: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '3' },
  },
});
const total = Number(values.responses);
const runs = Number(values.runs);
const READ_KEY = 'bench-read-key-0123456789';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return percentile(s, 50);
}

function response(surveyId: string, i: number, now: number): NpsResponse {
  return normalizedResponse({
    responseId: randomUUID(),
    surveyId,
    channel: (['web', 'sms', 'email'] as const)[i % 3] ?? 'web',
    score: i % 11,
    comment: i % 4 === 0 ? 'Levering tog for lang tid' : null,
    locale: 'da',
    respondentId: null,
    segment: { region: i % 2 === 0 ? 'dk' : 'se' },
    respondedAt: now,
    receivedAt: now,
  });
}

async function liveCount(url: string, surveyId: string): Promise<number> {
  const res = await fetch(`${url}/v1/nps/live?surveyId=${surveyId}&window=15m`, {
    headers: { authorization: `Bearer ${READ_KEY}` },
  });
  return ((await res.json()) as { responses: number }).responses;
}

async function oneRun(run: number) {
  const id = randomUUID().replaceAll('-', '');
  const chFolder = mkdtempSync(join(tmpdir(), 'nps-bench-'));
  const config = loadConfig({
    ...process.env,
    NPS_TOPIC: `bench.${id}`,
    NPS_DLQ_TOPIC: `bench.${id}.dlq`,
    NPS_CONSUMER_GROUP: `bench-${id}`,
    NPS_REDIS_PREFIX: `bench:${id}:`,
    CLICKHOUSE_DATABASE: `bench_${id}`,
    NPS_API_KEYS: `${READ_KEY}:read`,
  });
  const stack = await up(config);
  const endpoints = {
    ...stack.endpoints,
    clickhouse: { kind: 'embedded' as const, path: chFolder },
  };
  const pipeline = await start({
    config,
    endpoints,
    roles: ['process', 'api'],
    port: 0,
    log: () => undefined,
  });
  const kafka = new Kafka({ brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const codec = new ResponseCodec(endpoints.schemaRegistryUrl, config.topic);
  await codec.register();
  // Let the processor join its group before the clock starts.
  await sleep(4000);

  const surveyId = `load-${id}`;
  const freshness: number[] = [];
  const load = { running: true };
  // A probe every 50 ms, each on its own survey, timed from its produce until the API shows it.
  const probe = async (i: number) => {
    const probeSurvey = `probe-${id}-${i}`;
    const sent = Date.now();
    await producer.send({
      topic: config.topic,
      acks: -1,
      messages: [{ value: await codec.encode(response(probeSurvey, 9, sent)) }],
    });
    while ((await liveCount(pipeline.url, probeSurvey)) < 1) await sleep(5);
    freshness.push(Date.now() - sent);
  };
  const probes = (async () => {
    const pending: Promise<void>[] = [];
    for (let i = 0; load.running; i++) {
      pending.push(probe(i));
      await sleep(50);
    }
    await Promise.all(pending);
  })();

  const began = Date.now();
  const chunk = 1000;
  for (let from = 0; from < total; from += chunk) {
    const now = Date.now();
    const messages = await Promise.all(
      Array.from({ length: Math.min(chunk, total - from) }, async (_, i) => {
        const r = response(surveyId, from + i, now);
        return { key: r.responseId, value: await codec.encode(r) };
      }),
    );
    await producer.send({ topic: config.topic, acks: -1, messages });
  }
  const produced = Date.now();
  while ((await liveCount(pipeline.url, surveyId)) < total) await sleep(20);
  const visible = Date.now();
  load.running = false;
  await probes;

  await producer.disconnect();
  await pipeline.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [config.topic, config.deadLetterTopic] })
    .catch(() => undefined);
  await admin.disconnect();
  rmSync(chFolder, { recursive: true, force: true });

  const sorted = [...freshness].sort((a, b) => a - b);
  const result = {
    run,
    responses: total,
    produceSeconds: (produced - began) / 1000,
    endToEndSeconds: (visible - began) / 1000,
    throughput: Math.round(total / ((visible - began) / 1000)),
    probes: sorted.length,
    freshnessP50Ms: percentile(sorted, 50),
    freshnessP99Ms: percentile(sorted, 99),
  };
  console.log(JSON.stringify(result));
  return result;
}

const results = [];
for (let run = 1; run <= runs; run++) results.push(await oneRun(run));
console.log(
  `\nmedian of ${runs} runs, ${total} responses each: ` +
    `${median(results.map((r) => r.throughput))} responses/s end to end, ` +
    `freshness p50 ${median(results.map((r) => r.freshnessP50Ms))} ms, ` +
    `p99 ${median(results.map((r) => r.freshnessP99Ms))} ms`,
);
process.exit(0);
