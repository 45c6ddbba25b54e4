/**
 * What comment themes cost, measured against the machine in the same run:
 *
 * 1. the tagger alone on one core (comments/s), over the labelled da/sv/en comments;
 * 2. processor drain of a prefilled topic (half the responses commented), alternately with the
 *    real tagger and with a tagger that does nothing, so the ratio is the tagging cost;
 * 3. GET /v1/nps/themes over a survey with --commented commented responses in the embedded engine.
 *
 *   npm run bench:themes -- --responses 100000 --runs 3 --commented 1000000
 *
 * --runs 0 measures only the tagger and the themes endpoint.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { up } from '../deploy/local/stack.js';
import { loadConfig } from '../src/config/config.js';
import { normalizedResponse } from '../src/domain/response.js';
import { ResponseCodec } from '../src/kafka/response-codec.js';
import { ensureTopics, uncommitted } from '../src/kafka/topics.js';
import { start } from '../src/start.js';
import { createClickHouse } from '../src/storage/clickhouse.js';
import { History } from '../src/storage/history.js';
import { migrate } from '../src/storage/migrations.js';
import { createTagger } from '../src/themes/tagger.js';
import type { Tagger } from '../src/themes/tagger.js';
import { defaultTaxonomy } from '../src/themes/taxonomy.js';

const { values } = parseArgs({
  options: {
    responses: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    commented: { type: 'string', default: '1000000' },
  },
});
const total = Number(values.responses);
const runs = Number(values.runs);
const commentedRows = Number(values.commented);
const READ_KEY = 'bench-read-key-0123456789';

const FIXTURES = new URL('../tests/fixtures/themes/', import.meta.url);
const comments = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) =>
    readFileSync(new URL(f, FIXTURES), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { text: string }).text),
  );

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

const tagger = createTagger(defaultTaxonomy());
const noTagger: Tagger = { version: 'none', tag: () => ({ language: null, themes: [] }) };

/** Comments tagged per second on this core. */
function taggingRate(): number {
  const n = 200_000;
  for (let i = 0; i < 5000; i++) tagger.tag(comments[i % comments.length] ?? '', null);
  const began = process.hrtime.bigint();
  for (let i = 0; i < n; i++) tagger.tag(comments[i % comments.length] ?? '', null);
  return n / (Number(process.hrtime.bigint() - began) / 1e9);
}

/** A run's own topic, group, key prefix, database and embedded ClickHouse folder. */
function isolated() {
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
  return { id, chFolder, config };
}

/** Responses/s a processor drains from a prefilled topic, from its first commit to its last. */
async function drainRate(withTagger: Tagger): Promise<number> {
  const { id, chFolder, config } = isolated();
  const stack = await up(config);
  const endpoints = {
    ...stack.endpoints,
    clickhouse: { kind: 'embedded' as const, path: chFolder },
  };
  const kafka = new Kafka({ brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, {
    topic: config.topic,
    deadLetterTopic: config.deadLetterTopic,
    partitions: config.topicPartitions,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const codec = new ResponseCodec(endpoints.schemaRegistryUrl, config.topic);
  await codec.register();
  const now = Date.now();
  for (let from = 0; from < total; from += 1000) {
    const messages = await Promise.all(
      Array.from({ length: Math.min(1000, total - from) }, async (_, i) => {
        const n = from + i;
        const r = normalizedResponse({
          responseId: `${id}-${n}`,
          surveyId: `bench-${n % 50}`,
          channel: (['web', 'sms', 'email'] as const)[n % 3] ?? 'web',
          score: n % 11,
          comment: n % 2 === 0 ? (comments[n % comments.length] ?? null) : null,
          respondedAt: now,
          receivedAt: now,
        });
        return { key: r.responseId, value: await codec.encode(r) };
      }),
    );
    await producer.send({ topic: config.topic, acks: -1, messages });
  }
  await producer.disconnect();

  const pipeline = await start({
    config,
    endpoints,
    roles: ['process'],
    port: 0,
    tagger: withTagger,
    log: () => undefined,
  });
  let first: { at: number; left: number } | undefined;
  let last = Date.now();
  for (;;) {
    const left = await uncommitted(admin, config.topic, config.consumerGroup);
    last = Date.now();
    if (first === undefined && left < total) first = { at: last, left };
    if (left === 0) break;
    await sleep(50);
  }
  await pipeline.close();
  await admin
    .deleteTopics({ topics: [config.topic, config.deadLetterTopic] })
    .catch(() => undefined);
  await admin.disconnect();
  rmSync(chFolder, { recursive: true, force: true });
  if (!first || last === first.at) return NaN;
  return first.left / ((last - first.at) / 1000);
}

/** Milliseconds of GET /v1/nps/themes over a survey with `rows` commented responses. */
async function themesLatency(rows: number): Promise<number[]> {
  const { id, chFolder, config } = isolated();
  const stack = await up(config);
  const target = { kind: 'embedded' as const, path: chFolder };
  const pipeline = await start({
    config,
    endpoints: { ...stack.endpoints, clickhouse: target },
    roles: ['api'],
    port: 0,
    log: () => undefined,
  });
  // The api role owns the engine in this process; a second client on the same folder shares it.
  const client = createClickHouse(target);
  await migrate(client, config.clickhouseDatabase);
  const history = new History(client, config.clickhouseDatabase);
  const tags = comments.map((c) => tagger.tag(c, null));
  const day = 86_400_000;
  const now = Date.now();
  for (let from = 0; from < rows; from += 100_000) {
    await history.insert(
      Array.from({ length: Math.min(100_000, rows - from) }, (_, i) => {
        const n = from + i;
        const t = tags[n % tags.length];
        const response = normalizedResponse({
          responseId: `${id}-${n}`,
          surveyId: 'big',
          channel: (['web', 'sms', 'email'] as const)[n % 3] ?? 'web',
          score: n % 11,
          comment: comments[n % comments.length] ?? null,
          respondedAt: now - (n % 90) * day,
          receivedAt: now,
        });
        return {
          response: {
            ...response,
            language: t?.language ?? null,
            themes: t?.themes ?? [],
            taxonomyVersion: tagger.version,
          },
          partition: 0,
          offset: String(n),
        };
      }),
      config.topic,
    );
  }
  const from = new Date(now - 91 * day).toISOString();
  const times: number[] = [];
  for (let i = 0; i < 11; i++) {
    const began = performance.now();
    const res = await fetch(`${pipeline.url}/v1/nps/themes?surveyId=big&from=${from}`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
    });
    const body = (await res.json()) as { commented: number };
    if (body.commented !== rows)
      throw new Error(`expected ${rows} commented, got ${body.commented}`);
    if (i > 0) times.push(performance.now() - began);
  }
  await pipeline.close();
  rmSync(chFolder, { recursive: true, force: true });
  return times;
}

const tagRate = taggingRate();
console.log(`tagger alone: ${Math.round(tagRate)} comments/s on one core`);
const withTags: number[] = [];
const without: number[] = [];
for (let run = 1; run <= runs; run++) {
  // Alternate the arms, so that drift of the machine falls on both.
  const a = await drainRate(tagger);
  const b = await drainRate(noTagger);
  withTags.push(a);
  without.push(b);
  console.log(
    JSON.stringify({
      run,
      responses: total,
      drainWithTagging: Math.round(a),
      drainWithout: Math.round(b),
    }),
  );
}
const ratio = median(withTags) / median(without);
if (runs > 0)
  console.log(
    `drain, median of ${runs}: ${Math.round(median(withTags))} responses/s tagged, ` +
      `${Math.round(median(without))} untagged: tagging costs ${(100 * (1 - ratio)).toFixed(1)} % ` +
      `(half the responses commented)`,
  );
const latencies = await themesLatency(commentedRows);
console.log(
  `GET /v1/nps/themes over ${commentedRows} commented responses: median ${median(latencies).toFixed(1)} ms, ` +
    `max ${Math.max(...latencies).toFixed(1)} ms of ${latencies.length} calls`,
);
process.exit(0);
