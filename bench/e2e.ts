/**
 * End-to-end benchmark against its ceilings, one table per run, then the medians over the runs.
 *
 * Per run, on the local stack, with the service (`nps start`, all roles) in a child process of its
 * own so the load generator's CPU (this process) and the service's are counted apart:
 *   - ceilings on a raw topic of the same shape (NPS_TOPIC_PARTITIONS partitions, 150-byte
 *     records, acks=all, idempotent): Kafka's Java ProducerPerformance and ConsumerPerformance,
 *     kafkajs raw produce and raw consume (no-op eachBatch, the processor's fetch settings);
 *   - drain: the topic prefilled with N Avro responses (50 surveys, half with a respondentId),
 *     then the service started; responses/s from its first processed batch to the last
 *     (nps_processed_records_total), ratio to kafkajs raw consume;
 *   - freshness: a steady rate for some seconds, probes every 50 ms each on a survey of its own,
 *     timed from produce until /v1/nps/live shows them;
 *   - live reads: 200 concurrent readers of a 30-day window, as fast as they can, and 200 readers
 *     polling once a second each;
 *   - SSE: 1,000 open streams on 10 windows, Redis reads per second;
 *   - ingest: single-response JSON posts at 64 connections, batches of 100 at 16.
 * CPU seconds of the load generator (this process and the Java tools), the service, the Kafka
 * broker and Redis are shown per step.
 *
 *   npm run bench -- --responses 1000000 --runs 3
 *   npm run bench -- --responses 100000 --runs 1 --seconds 5     (quick)
 *   --skip ceilings,freshness,reads,sse,ingest leaves steps out (the drain always runs); --rate sets
 *   the freshness step's steady rate (default 10,000/s).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { up } from '../deploy/local/stack.js';
import { loadConfig } from '../src/config/config.js';
import { normalizedResponse } from '../src/domain/response.js';
import type { NpsResponse } from '../src/domain/response.js';
import { ResponseCodec } from '../src/kafka/response-codec.js';
import { coveringBuckets, windowRange } from '../src/domain/windows.js';
import { FETCH } from '../src/stream/processor.js';
import { Ceilings, cpuSeconds } from './ceilings.js';
import type { Measure } from './ceilings.js';
import { freePort, runLoad, startServer } from './load.js';

const { values } = parseArgs({
  options: {
    responses: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '15' },
    mixed: { type: 'string', default: '0' },
    skip: { type: 'string', default: '' },
    poll: { type: 'string', default: '25' },
  },
});
const total = Number(values.responses);
const runs = Number(values.runs);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
/** Seconds of the mixed `npm run load` per run; 0 leaves it out. */
const mixedSeconds = Number(values.mixed);
/**
 * How often a probe asks /v1/nps/live, ms. Every pending probe polls: at 5 ms a dozen pending
 * probes are 2,000 reads/s, which load the service they measure.
 */
const pollMs = Number(values.poll);
const skip = new Set(values.skip.split(',').filter(Boolean));
const INGEST_KEY = 'bench-ingest-key-0123456789';
const READ_KEY = 'bench-read-key-0123456789';
const SURVEYS = 50;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] ?? Number.NaN);
}

function response(surveyId: string, i: number, now: number): NpsResponse {
  return normalizedResponse({
    responseId: randomUUID(),
    surveyId,
    channel: (['web', 'sms', 'email'] as const)[i % 3] ?? 'web',
    score: i % 11,
    comment: i % 4 === 0 ? 'Levering tog for lang tid' : null,
    locale: 'da',
    respondentId: i % 2 === 0 ? `r-${String(i % 100_000)}` : null,
    segment: { region: i % 2 === 0 ? 'dk' : 'se' },
    respondedAt: now,
    receivedAt: now,
  });
}

function pidOf(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** CPU seconds of each process taking part, to subtract one reading from another. */
function cpuNow(service: number, stackDir: string): Record<string, number> {
  const own = (pid: number | undefined) => {
    try {
      return pid === undefined ? Number.NaN : cpuSeconds(pid).own;
    } catch {
      return Number.NaN;
    }
  };
  const self = cpuSeconds();
  return {
    generator: self.own + self.children,
    service: own(service),
    kafka: own(pidOf(join(stackDir, 'kafka', 'kafka.pid'))),
    redis: own(pidOf(join(stackDir, 'redis', 'redis.pid'))),
  };
}

function cpuText(before: Record<string, number>, after: Record<string, number>): string {
  return Object.keys(after)
    .map((k) => `${k} ${((after[k] ?? 0) - (before[k] ?? 0)).toFixed(1)}`)
    .join(', ');
}

interface Row {
  readonly step: string;
  readonly value: number;
  readonly unit: string;
  readonly ceiling?: string;
  readonly ratio?: number;
  readonly cpu?: string;
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 0);
}

async function liveCount(base: string, surveyId: string, window = '15m'): Promise<number> {
  const res = await fetch(`${base}/v1/nps/live?surveyId=${surveyId}&window=${window}`, {
    headers: { authorization: `Bearer ${READ_KEY}` },
  });
  return ((await res.json()) as { responses: number }).responses;
}

async function oneRun(run: number): Promise<Row[]> {
  const id = randomUUID().replaceAll('-', '').slice(0, 16);
  const folder = mkdtempSync(join(tmpdir(), 'nps-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    NPS_TOPIC: `bench.${id}`,
    NPS_DLQ_TOPIC: `bench.${id}.dlq`,
    NPS_INVITATION_TOPIC: `bench.${id}.invitations`,
    // Its own events topics: on the shared default, each run's new deliver group would read
    // every earlier run's events from the beginning, and the service's CPU with it.
    NPS_EVENTS_TOPIC: `bench.${id}.events`,
    NPS_EVENTS_DLQ_TOPIC: `bench.${id}.events.dlq`,
    NPS_CONSUMER_GROUP: `bench-${id}`,
    NPS_REDIS_PREFIX: `bench:${id}:`,
    CLICKHOUSE_DATABASE: `bench_${id}`,
    CLICKHOUSE_PATH: folder,
    NPS_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read`,
    PUBLIC_BASE_URL: base,
    NPS_RATE_LIMIT_PER_KEY: '0',
    NPS_RATE_LIMIT_PER_IP: '0',
  };
  const config = loadConfig({ ...process.env, ...env });
  const { endpoints } = await up(config);
  const partitions = config.topicPartitions;
  const ceilings = new Ceilings(endpoints.kafkaBrokers, config.cacheDir);
  const rows: Row[] = [];
  const log = (line: string) => {
    console.error(`[run ${String(run)}] ${line}`);
  };

  // Ceilings, on a raw topic of the same shape.
  const raw = `bench.${id}.raw`;
  await ceilings.createTopic(raw, partitions);
  const measured: Record<string, Measure> = {};
  for (const [key, step] of [
    ...(skip.has('ceilings')
      ? []
      : ([
          ['javaProduce', () => ceilings.javaProduce(raw, total)],
          ['javaConsume', () => ceilings.javaConsume(raw, total)],
          ['kafkajsProduce', () => ceilings.kafkajsProduce(`${raw}.js`, total)],
          ['kafkajsConsume', () => ceilings.kafkajsConsume(`${raw}.js`, total, FETCH)],
        ] as const)),
  ]) {
    if (key === 'kafkajsProduce') await ceilings.createTopic(`${raw}.js`, partitions);
    const m = await step();
    measured[key] = m;
    log(`${m.name}: ${String(m.perSecond)}/s`);
    rows.push({
      step: m.name,
      value: m.perSecond,
      unit: 'records/s',
      cpu: `generator ${m.clientCpu.toFixed(1)}`,
      ...(key.startsWith('kafkajs') && {
        ceiling: key === 'kafkajsProduce' ? 'Java producer' : 'Java consumer',
        ratio:
          m.perSecond /
          ((key === 'kafkajsProduce' ? measured.javaProduce : measured.javaConsume)?.perSecond ??
            Number.NaN),
      }),
    });
  }
  await ceilings.deleteTopics([raw, `${raw}.js`]);

  // Prefill the service's topic, then start the service and time its drain.
  await ceilings.createTopic(config.topic, partitions);
  const kafka = new Kafka({ brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const codec = new ResponseCodec(endpoints.schemaRegistryUrl, config.topic);
  await codec.register();
  const fillAt = Date.now();
  let next = 0;
  const fill = async () => {
    while (next < total) {
      const from = next;
      const n = Math.min(2000, total - from);
      next += n;
      const messages = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const r = response(`bench-${String((from + i) % SURVEYS)}`, from + i, fillAt);
          return { key: r.responseId, value: await codec.encode(r) };
        }),
      );
      await producer.send({ topic: config.topic, acks: -1, messages });
    }
  };
  await Promise.all(Array.from({ length: 4 }, fill));
  log(`prefilled ${String(total)} responses in ${String((Date.now() - fillAt) / 1000)} s`);

  const childEnv: Record<string, string> = {
    ...env,
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    REDIS_URL: endpoints.redisUrl,
  };
  const redis = new Redis(endpoints.redisUrl);
  const usedMemory = async () =>
    Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
  const memoryBefore = await usedMemory();
  const startedAt = performance.now();
  const server = await startServer(childEnv, port);
  const cpu = () => cpuNow(server.pid, config.stackDir);
  try {
    // From the moment the group is Stable (the processor joined) to the last record processed.
    const admin = kafka.admin();
    await admin.connect();
    let joined: { at: number; cpu: Record<string, number> } | undefined;
    for (;;) {
      if (joined === undefined) {
        const { groups } = await admin.describeGroups([config.consumerGroup]);
        if (groups[0]?.state === 'Stable') joined = { at: performance.now(), cpu: cpu() };
      }
      if ((await metric(base, 'nps_processed_records_total').catch(() => 0)) >= total) break;
      await sleep(20);
    }
    await admin.disconnect();
    const doneAt = performance.now();
    const f = joined ?? { at: startedAt, cpu: cpu() };
    const drain = Math.round(total / ((doneAt - f.at) / 1000));
    const rawConsume = measured.kafkajsConsume?.perSecond ?? Number.NaN;
    log(`drain ${String(drain)}/s`);
    rows.push({
      step: `processor drain (${String(total)} prefilled)`,
      value: drain,
      unit: 'responses/s',
      ceiling: 'kafkajs raw consume',
      ratio: drain / rawConsume,
      cpu: cpuText(f.cpu, cpu()),
    });
    rows.push(...(await redisBytes(redis, config.redisPrefix, total, memoryBefore, usedMemory)));
    rows.push({
      step: 'drain incl. start (process up, join, migrations)',
      value: Math.round(total / ((doneAt - startedAt) / 1000)),
      unit: 'responses/s',
    });

    // Freshness at a steady rate.
    if (!skip.has('freshness')) {
      const freshness: number[] = [];
      const load = { running: true };
      const probe = async (i: number) => {
        const survey = `probe-${id}-${String(i)}`;
        const sent = performance.now();
        await producer.send({
          topic: config.topic,
          acks: -1,
          messages: [{ value: await codec.encode(response(survey, 9, Date.now())) }],
        });
        while ((await liveCount(base, survey)) < 1) await sleep(pollMs);
        freshness.push(performance.now() - sent);
      };
      const probes = (async () => {
        const pending: Promise<void>[] = [];
        for (let i = 0; load.running; i++) {
          pending.push(probe(i));
          await sleep(50);
        }
        await Promise.all(pending);
      })();
      const cpu0 = cpu();
      const began = performance.now();
      const tick = 20;
      const perTick = Math.max(1, Math.round((rate * tick) / 1000));
      let sent = 0;
      const steady = `steady-${id}`;
      const inFlight = new Set<Promise<unknown>>();
      while (performance.now() - began < seconds * 1000) {
        const now = Date.now();
        const messages = await Promise.all(
          Array.from({ length: perTick }, async (_, i) => {
            const r = response(steady, sent + i, now);
            return { key: r.responseId, value: await codec.encode(r) };
          }),
        );
        sent += perTick;
        const p = producer.send({ topic: config.topic, acks: -1, messages });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        const due = began + (sent / perTick) * tick;
        await sleep(Math.max(0, due - performance.now()));
      }
      await Promise.all(inFlight);
      const achieved = sent / ((performance.now() - began) / 1000);
      load.running = false;
      await probes;
      while ((await liveCount(base, steady)) < sent) await sleep(20);
      const sorted = [...freshness].sort((a, b) => a - b);
      const note = `at ${String(Math.round(achieved))}/s, ${String(sorted.length)} probes`;
      rows.push({
        step: `freshness p50 (${note})`,
        value: Math.round(percentile(sorted, 50)),
        unit: 'ms',
        cpu: cpuText(cpu0, cpu()),
      });
      rows.push({
        step: `freshness p99 (${note})`,
        value: Math.round(percentile(sorted, 99)),
        unit: 'ms',
      });
    }

    // Live reads: 200 concurrent readers of one survey's 30-day window.
    if (!skip.has('reads')) {
      const cpu0 = cpu();
      const reads = await autocannon({
        url: `${base}/v1/nps/live?surveyId=bench-1&window=30d`,
        connections: 200,
        duration: Math.min(seconds, 10),
        headers: { authorization: `Bearer ${READ_KEY}` },
      });
      const c = cpuText(cpu0, cpu());
      rows.push({
        step: `live read 30d, 200 readers (${String(reads.requests.total)} reads, ${String(reads.non2xx)} non-2xx)`,
        value: reads.latency.p50,
        unit: 'ms p50',
        cpu: c,
      });
      rows.push({ step: 'live read p99', value: reads.latency.p99, unit: 'ms p99' });
      rows.push({ step: 'live reads', value: Math.round(reads.requests.average), unit: 'reads/s' });
      // The same 200 readers as dashboards: each polls once a second from its own moment in the
      // second (open loop, 200 reads/s), a survey of its own among the 50.
      const paced0 = cpu();
      const latencies: number[] = [];
      let failed = 0;
      const pacedUntil = performance.now() + Math.min(seconds, 10) * 1000;
      await Promise.all(
        Array.from({ length: 200 }, async (_, reader) => {
          let due = performance.now() + Math.random() * 1000;
          for (;;) {
            await sleep(Math.max(0, due - performance.now()));
            if (due > pacedUntil) return;
            const sent = performance.now();
            const res = await fetch(
              `${base}/v1/nps/live?surveyId=bench-${String(reader % SURVEYS)}&window=30d`,
              { headers: { authorization: `Bearer ${READ_KEY}` } },
            );
            await res.arrayBuffer();
            if (!res.ok) failed += 1;
            latencies.push(performance.now() - sent);
            due += 1000;
          }
        }),
      );
      const pacedSorted = [...latencies].sort((a, b) => a - b);
      rows.push({
        step: `live read 30d, 200 readers polling once a second (${String(latencies.length)} reads, ${String(failed)} non-2xx)`,
        value: Number(percentile(pacedSorted, 50).toFixed(1)),
        unit: 'ms p50',
        cpu: cpuText(paced0, cpu()),
      });
      rows.push({
        step: 'live read p99, 200 readers polling once a second',
        value: Number(percentile(pacedSorted, 99).toFixed(1)),
        unit: 'ms p99',
      });
    }

    // Ingest: single JSON posts at 64 connections, batches of 100 at 16.
    // Server-Sent Events: 1,000 open streams on 10 windows (100 dashboards each). Watchers of one
    // window share its poller, so Redis should see one read per window per second. Counted in
    // Redis itself: every live read is one script call doing one HMGET per bucket (live-read.lua),
    // and nothing else in the pipeline calls HMGET.
    if (!skip.has('sse')) {
      const windows = 10;
      const streams = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const abort = new AbortController();
          const res = await fetch(
            `${base}/v1/nps/stream?surveyId=bench-${String(i % windows)}&window=24h`,
            { headers: { authorization: `Bearer ${READ_KEY}` }, signal: abort.signal },
          );
          const reader = res.body?.getReader();
          void (async () => {
            try {
              while (reader && !(await reader.read()).done);
            } catch {
              // aborted at the end of the step
            }
          })();
          return { ok: res.ok, abort };
        }),
      );
      await sleep(2000);
      const hmgets = async () =>
        Number(/cmdstat_hmget:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
      const buckets = () => {
        const { from, to } = windowRange('24h', Date.now());
        return coveringBuckets(from, to).length;
      };
      const cpu0 = cpu();
      const [calls0, buckets0, at0] = [await hmgets(), buckets(), performance.now()];
      await sleep(10_000);
      const [calls1, buckets1, at1] = [await hmgets(), buckets(), performance.now()];
      const polls = (calls1 - calls0) / ((buckets0 + buckets1) / 2) / ((at1 - at0) / 1000);
      for (const stream of streams) stream.abort.abort();
      rows.push({
        step: `SSE, 1,000 open streams on ${String(windows)} windows (${String(streams.filter((x) => x.ok).length)} opened)`,
        value: Number(polls.toFixed(1)),
        unit: 'window reads/s in total',
        cpu: cpuText(cpu0, cpu()),
      });
    }

    if (!skip.has('ingest')) {
      const ingestSurvey = `ingest-${id}`;
      const one = (i: number) => ({
        surveyId: ingestSurvey,
        score: i % 11,
        channel: 'web',
        respondentId: i % 2 === 0 ? `r-${String(i)}` : undefined,
      });
      for (const [label, connections, body, per] of [
        ['ingest single posts, 64 connections', 64, JSON.stringify(one(1)), 1],
        [
          'ingest batches of 100, 16 connections',
          16,
          JSON.stringify(Array.from({ length: 100 }, (_, i) => one(i))),
          100,
        ],
      ] as const) {
        const cpu0 = cpu();
        const result = await autocannon({
          url: `${base}/v1/responses`,
          method: 'POST',
          connections,
          duration: Math.min(seconds, 10),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` },
          body,
        });
        const c = cpuText(cpu0, cpu());
        const ok = result['2xx'];
        rows.push({
          step: `${label} (${String(result.non2xx)} non-2xx, p99 ${String(result.latency.p99)} ms)`,
          value: Math.round((ok * per) / result.duration),
          unit: 'responses/s',
          ceiling: 'kafkajs raw produce',
          ratio: (ok * per) / result.duration / (measured.kafkajsProduce?.perSecond ?? Number.NaN),
          cpu: c,
        });
        if (per === 1)
          rows.push({
            step: 'ingest single posts p99',
            value: result.latency.p99,
            unit: 'ms p99',
          });
      }
    }
  } catch (error) {
    log(server.output().slice(-3000));
    throw error;
  } finally {
    await producer.disconnect();
    await server.stop();
    if (process.env.BENCH_SERVICE_OUTPUT) console.error(server.output());
    // The run's keys go with it: millions of marks left behind slow every later KEYS and SCAN.
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${config.redisPrefix}*`,
        'COUNT',
        5000,
      );
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    redis.disconnect();
    await ceilings.deleteTopics([
      config.topic,
      config.deadLetterTopic,
      config.invitationTopic,
      config.eventsTopic,
      config.eventsDeadLetterTopic,
    ]);
    rmSync(folder, { recursive: true, force: true });
  }

  if (mixedSeconds > 0) {
    const load = await runLoad({ seconds: mixedSeconds, connections: 16, log });
    rows.push({
      step: `npm run load mixed, 16 connections (p99 ${String(load.latencyP99Ms)} ms, ${String(load.status5xx)} 5xx)`,
      value: load.requestsPerSecond,
      unit: 'requests/s',
    });
  }
  printTable(
    `run ${String(run)}: ${String(total)} responses, ${String(partitions)} partitions`,
    rows,
  );
  return rows;
}

/**
 * Redis bytes per response after the drain: used_memory before and after, over the responses,
 * and per kind of key (first-copy marks `seen:`, respondent index `resp:`, window buckets
 * `live:`) the count and MEMORY USAGE of a sample of 200, scaled up.
 */
async function redisBytes(
  redis: Redis,
  prefix: string,
  responses: number,
  before: number,
  usedMemory: () => Promise<number>,
): Promise<Row[]> {
  const kinds = new Map<string, { keys: number; sample: string[] }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    for (const key of keys) {
      const kind = key.slice(prefix.length).split(':')[0] ?? '';
      const k = kinds.get(kind) ?? { keys: 0, sample: [] };
      k.keys++;
      if (k.sample.length < 200) k.sample.push(key);
      kinds.set(kind, k);
    }
  } while (cursor !== '0');
  const rows: Row[] = [
    {
      step: `Redis used_memory growth per response (${String(responses)} responses)`,
      value: Math.round(((await usedMemory()) - before) / responses),
      unit: 'bytes',
    },
  ];
  for (const [kind, { keys, sample }] of [...kinds].sort((a, b) => b[1].keys - a[1].keys)) {
    if (!['seen', 'resp', 'live'].includes(kind)) continue;
    let bytes = 0;
    for (const key of sample) bytes += Number(await redis.memory('USAGE', key));
    const total = (bytes / sample.length) * keys;
    rows.push({
      step: `Redis ${kind}: keys (${String(keys)} keys, ${String(Math.round(bytes / sample.length))} B each, MEMORY USAGE of ${String(sample.length)})`,
      value: Math.round(total / responses),
      unit: 'bytes/response',
    });
  }
  return rows;
}

function printTable(title: string, rows: readonly Row[]): void {
  const lines = rows.map((r) => [
    r.step,
    `${Number.isFinite(r.value) ? r.value.toLocaleString('en-US') : 'n/a'} ${r.unit}`,
    r.ceiling ?? '',
    r.ratio === undefined ? '' : r.ratio.toFixed(2),
    r.cpu ?? '',
  ]);
  const head = ['step', 'ours / measured', 'ceiling', 'ratio', 'CPU s during step'];
  console.log(`\n${title}\n`);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const l of lines) console.log(`| ${l.join(' | ')} |`);
}

const all: Row[][] = [];
for (let run = 1; run <= runs; run++) all.push(await oneRun(run));
if (runs > 1) {
  const first = all[0] ?? [];
  printTable(
    `median of ${String(runs)} runs`,
    first.map((row, i) => {
      const ratios = all.map((rs) => rs[i]?.ratio ?? Number.NaN);
      const ratio = median(ratios);
      return {
        step: row.step.replace(/ \(.*\)$/, ''),
        value: median(all.map((rs) => rs[i]?.value ?? Number.NaN)),
        unit: row.unit,
        ...(row.ceiling !== undefined && { ceiling: row.ceiling }),
        ...(Number.isFinite(ratio) && { ratio }),
      };
    }),
  );
}
console.log(`\nCPU: ${String((await import('node:os')).cpus().length)} cores`);
process.exit(0);
