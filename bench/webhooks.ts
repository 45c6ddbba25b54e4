/**
 * Webhook latency: how long a detractor takes from its 202 to a healthy receiver.
 *
 * The service runs as `nps start` with every role (ingest, process, api, deliver) in a process of
 * its own, on the local stack with an embedded ClickHouse, as it would be deployed; this process
 * is the clients: the load and a receiver on loopback that verifies each delivery's signature
 * (standardwebhooks) and notes its arrival. (With the receiver in the service's own process, the
 * receiver waited on the service's event loop: that measured the receiver, not the delivery.) Responses are posted over HTTP at a steady rate (batches of 10 every 10 ms:
 * 1,000 responses a second by default), scores 0-10 in turn, so 7 in 11 are detractors. Latency of
 * a detractor = arrival at the receiver - the 202 of the request that carried it. The clock starts
 * after one detractor has arrived (groups joined, connections open).
 *
 *   npm run bench:webhooks -- --seconds 30 --rate 1000 --runs 3
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Webhook } from 'standardwebhooks';
import { up } from '../deploy/local/stack.js';
import { loadConfig } from '../src/config/config.js';

const CLI = fileURLToPath(new URL('../src/cli/nps.ts', import.meta.url));

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    rate: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const runs = Number(values.runs);
const BATCH = 10;
const INGEST_KEY = 'bench-ingest-key-0123456789';
const ADMIN_KEY = 'bench-admin-key-0123456789';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

async function receiver() {
  const arrivals = new Map<string, number>();
  let unverified = 0;
  let secret = '';
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const at = performance.now();
      try {
        new Webhook(secret).verify(
          raw,
          req.headers as IncomingHttpHeaders & Record<string, string>,
        );
      } catch {
        unverified++;
      }
      const body = JSON.parse(raw) as { data: { responseId: string } };
      if (!arrivals.has(body.data.responseId)) arrivals.set(body.data.responseId, at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    unverified: () => unverified,
    useSecret: (s: string) => {
      secret = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** `nps start` with every role in a child process; resolves once it listens. */
async function startService(
  env: Record<string, string>,
  kafkaBrokers: readonly string[],
  services: { readonly schemaRegistryUrl: string; readonly redisUrl: string },
  clickhousePath: string,
) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'start', '--port', '0', '--roles', 'ingest,process,api,deliver'],
    {
      env: {
        ...process.env,
        ...env,
        KAFKA_BROKERS: kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
        REDIS_URL: services.redisUrl,
        CLICKHOUSE_PATH: clickhousePath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`nps start exited with ${String(code)}:\n${output}`));
    });
  });
  const ticks = 100; // USER_HZ on Linux
  return {
    url,
    /** User + system CPU seconds of the service so far (Linux /proc). */
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${String(child.pid)}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / ticks;
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function oneRun(run: number) {
  const id = randomUUID().replaceAll('-', '');
  const chFolder = mkdtempSync(join(tmpdir(), 'nps-bench-hooks-'));
  const env = {
    NPS_TOPIC: `bench.${id}`,
    NPS_DLQ_TOPIC: `bench.${id}.dlq`,
    NPS_EVENTS_TOPIC: `bench.events.${id}`,
    NPS_EVENTS_DLQ_TOPIC: `bench.events.${id}.dlq`,
    NPS_INVITATION_TOPIC: `bench.invitations.${id}`,
    NPS_CONSUMER_GROUP: `bench-${id}`,
    NPS_REDIS_PREFIX: `bench:${id}:`,
    CLICKHOUSE_DATABASE: `bench_${id}`,
    NPS_API_KEYS: `${INGEST_KEY}:ingest,${ADMIN_KEY}:admin`,
    NPS_RATE_LIMIT_PER_KEY: '0',
    NPS_RATE_LIMIT_PER_IP: '0',
    NPS_WEBHOOK_ALLOW_HTTP: '1',
    NPS_WEBHOOK_ALLOW_PRIVATE: '1',
    NPS_SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
  };
  const config = loadConfig({ ...process.env, ...env });
  const stack = await up(config);
  const endpoints = {
    ...stack.endpoints,
    clickhouse: { kind: 'embedded' as const, path: chFolder },
  };
  const pipeline = await startService(env, endpoints.kafkaBrokers, stack.endpoints, chFolder);
  const hook = await receiver();
  const created = await fetch(`${pipeline.url}/v1/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: hook.url, events: ['response.detractor'] }),
  });
  hook.useSecret(((await created.json()) as { secret: string }).secret);
  // The clock starts once a first detractor has gone the whole way: both consumer groups have
  // joined and every connection is open, so the runs measure the steady state, not the start.
  const warmUp = `warm-${id}`;
  await fetch(`${pipeline.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ surveyId: `hooks-${id}`, responseId: warmUp, score: 0 }),
  });
  const warmDeadline = performance.now() + 60_000;
  while (!hook.arrivals.has(warmUp) && performance.now() < warmDeadline) await sleep(50);
  if (!hook.arrivals.delete(warmUp))
    throw new Error('the warm-up detractor did not arrive in 60 s');

  const surveyId = `hooks-${id}`;
  const accepted = new Map<string, number>();
  const requests = Math.round((seconds * rate) / BATCH);
  const every = (1000 * BATCH) / rate;
  const began = performance.now();
  const inFlight: Promise<void>[] = [];
  const cpuBefore = pipeline.cpuSeconds();
  for (let r = 0; r < requests; r++) {
    const due = began + r * every;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const items = Array.from({ length: BATCH }, (_, i) => ({
      surveyId,
      responseId: `r-${r * BATCH + i}`,
      score: (r * BATCH + i) % 11,
    }));
    inFlight.push(
      fetch(`${pipeline.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(items),
      }).then(async (res) => {
        await res.arrayBuffer();
        const at = performance.now();
        if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
        for (const item of items) if (item.score <= 6) accepted.set(item.responseId, at);
      }),
    );
  }
  await Promise.all(inFlight);
  const sentSeconds = (performance.now() - began) / 1000;
  const deadline = performance.now() + 120_000;
  while (hook.arrivals.size < accepted.size && performance.now() < deadline) await sleep(50);
  const cpu = pipeline.cpuSeconds() - cpuBefore;

  const latencies = [...accepted].map(([responseId, at]) => {
    const arrived = hook.arrivals.get(responseId);
    return arrived === undefined ? Number.POSITIVE_INFINITY : arrived - at;
  });
  latencies.sort((a, b) => a - b);
  await hook.close();
  await pipeline.close();
  const kafka = new Kafka({ brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({
      topics: [
        config.topic,
        config.deadLetterTopic,
        config.eventsTopic,
        config.eventsDeadLetterTopic,
        config.invitationTopic,
      ],
    })
    .catch(() => undefined);
  await admin.disconnect();
  rmSync(chFolder, { recursive: true, force: true });

  const result = {
    run,
    offeredPerSecond: rate,
    sentPerSecond: Math.round((requests * BATCH) / sentSeconds),
    detractors: accepted.size,
    delivered: hook.arrivals.size,
    unverified: hook.unverified(),
    p50Ms: Math.round(percentile(latencies, 50)),
    p99Ms: Math.round(percentile(latencies, 99)),
    maxMs: Math.round(latencies.at(-1) ?? Number.NaN),
    // The service's CPU use over the run, in cores.
    serviceCpuCores: Number((cpu / ((performance.now() - began) / 1000)).toFixed(2)),
  };
  console.log(JSON.stringify(result));
  return result;
}

const results = [];
for (let run = 1; run <= runs; run++) results.push(await oneRun(run));
console.log(
  `\nmedian of ${runs} runs of ${seconds} s at ${rate} responses/s offered: ` +
    `${median(results.map((r) => r.sentPerSecond))} responses/s sent, detractor 202 -> receiver ` +
    `p50 ${median(results.map((r) => r.p50Ms))} ms, p99 ${median(results.map((r) => r.p99Ms))} ms`,
);
process.exit(0);
