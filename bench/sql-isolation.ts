/**
 * Does a slow SQL query stall ingest or live reads? Runs `nps start` (all roles, SQL endpoint on)
 * against the local stack, keeps a steady trickle of ingest going, and measures live reads
 * (`GET /v1/nps/live`, autocannon) twice: without SQL load, then while 4 clients each keep a heavy
 * SQL query running. Reports p50/p99 of live reads and of ingest requests, and how long the
 * processor took to catch up after each phase.
 *
 *   npm run bench:sql -- --seconds 20 --heavy 4
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { up } from '../deploy/local/stack.js';
import { loadConfig } from '../src/config/config.js';

const CLI = fileURLToPath(new URL('../src/cli/nps.ts', import.meta.url));
const INGEST_KEY = 'bench-ingest-key-0123456789';
const READ_KEY = 'bench-read-key-0123456789';
const SQL_KEY = 'bench-sql-key-0123456789';
/** CPU-bound and unbounded: stopped by the endpoint's max_execution_time, then sent again. */
const HEAVY = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) % 1000 = 7';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => {
        resolve(port);
      });
    });
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Phase {
  readonly name: string;
  readonly liveRequests: number;
  readonly liveP50Ms: number;
  readonly liveP99Ms: number;
  readonly liveMaxMs: number;
  readonly ingestRequests: number;
  readonly ingestP50Ms: number;
  readonly ingestP99Ms: number;
  readonly catchUpMs: number;
  readonly sqlQueriesFinished: number;
  /** Exception codes (or 200) the heavy queries ended with: 159 is max_execution_time. */
  readonly sqlAnswers: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      heavy: { type: 'string', default: '4' },
      connections: { type: 'string', default: '4' },
    },
  });
  const seconds = Number(values.seconds);
  const heavy = Number(values.heavy);
  const connections = Number(values.connections);
  const id = randomUUID().replaceAll('-', '');
  const folder = mkdtempSync(join(tmpdir(), 'nps-bench-sql-'));
  const [port, sqlPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const sqlBase = `http://127.0.0.1:${sqlPort}`;
  const env = {
    NPS_TOPIC: `bench.${id}`,
    NPS_DLQ_TOPIC: `bench.${id}.dlq`,
    NPS_CONSUMER_GROUP: `bench-${id}`,
    NPS_REDIS_PREFIX: `bench:${id}:`,
    CLICKHOUSE_DATABASE: `bench_${id}`,
    CLICKHOUSE_PATH: folder,
    NPS_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read,${SQL_KEY}:sql`,
    NPS_SQL_PORT: String(sqlPort),
    NPS_RATE_LIMIT_PER_KEY: '0',
    NPS_RATE_LIMIT_PER_IP: '0',
  };
  const config = loadConfig({ ...process.env, ...env });
  const endpoints = (await up(config)).endpoints;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '--port', String(port)], {
    env: {
      ...process.env,
      ...env,
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      REDIS_URL: endpoints.redisUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const surveyId = `bench-${id.slice(0, 8)}`;
  try {
    const deadline = Date.now() + 90_000;
    while (!output.includes('SQL endpoint')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`nps start did not come up:\n${output}`);
      }
      await sleep(100);
    }

    let accepted = 0;
    let n = 0;
    const post = async (count: number) => {
      const body = Array.from({ length: count }, () => ({
        surveyId,
        responseId: `${surveyId}-${n}`,
        score: n++ % 11,
      }));
      const res = await fetch(`${base}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
      accepted += count;
    };
    const live = async () => {
      const res = await fetch(`${base}/v1/nps/live?surveyId=${surveyId}&window=24h`, {
        headers: { authorization: `Bearer ${READ_KEY}` },
      });
      return ((await res.json()) as { responses: number }).responses;
    };
    // Something to read: 20,000 responses in the window.
    for (let i = 0; i < 20; i++) await post(1000);
    while ((await live()) < accepted) await sleep(200);

    const phase = async (name: string, sqlClients: number): Promise<Phase> => {
      const state = { running: true };
      let sqlFinished = 0;
      const sqlCodes: string[] = [];
      const stopSql = new AbortController();
      const sql = Array.from({ length: sqlClients }, async () => {
        while (state.running) {
          await fetch(`${sqlBase}/?max_execution_time=30`, {
            method: 'POST',
            headers: { 'X-ClickHouse-User': 'bench', 'X-ClickHouse-Key': SQL_KEY },
            body: HEAVY,
            signal: stopSql.signal,
          })
            .then(async (r) => {
              sqlCodes.push(r.headers.get('x-clickhouse-exception-code') ?? String(r.status));
              await r.text();
            })
            .catch(() => undefined);
          sqlFinished++;
        }
      });
      // Let the heavy queries get going before measuring.
      if (sqlClients > 0) await sleep(2000);
      const ingestLatencies: number[] = [];
      const ingest = (async () => {
        while (state.running) {
          const began = performance.now();
          await post(10);
          ingestLatencies.push(performance.now() - began);
          await sleep(100);
        }
      })();
      const reads = await autocannon({
        url: `${base}/v1/nps/live?surveyId=${surveyId}&window=24h`,
        headers: { authorization: `Bearer ${READ_KEY}` },
        connections,
        duration: seconds,
      });
      state.running = false;
      await ingest;
      // Still under SQL load: how far behind the processor is when ingest stops.
      const ended = performance.now();
      while ((await live()) < accepted) await sleep(50);
      const catchUpMs = performance.now() - ended;
      // Heavy queries still running are abandoned; the endpoint cancels them.
      state.running = false;
      stopSql.abort();
      await Promise.all(sql);
      return {
        name,
        liveRequests: reads.requests.total,
        liveP50Ms: reads.latency.p50,
        liveP99Ms: reads.latency.p99,
        liveMaxMs: reads.latency.max,
        ingestRequests: ingestLatencies.length,
        ingestP50Ms: Math.round(percentile(ingestLatencies, 50)),
        ingestP99Ms: Math.round(percentile(ingestLatencies, 99)),
        catchUpMs: Math.round(catchUpMs),
        sqlQueriesFinished: sqlFinished,
        sqlAnswers: [...new Set(sqlCodes)].join(' '),
      };
    };

    const baseline = await phase('no SQL load', 0);
    const loaded = await phase(`${heavy} heavy SQL queries`, heavy);
    console.table([baseline, loaded]);
    console.log(JSON.stringify({ seconds, connections, heavy, phases: [baseline, loaded] }));
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const admin = new Kafka({
      brokers: [...endpoints.kafkaBrokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [config.topic, config.deadLetterTopic] })
      .catch(() => undefined);
    await admin.disconnect();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
