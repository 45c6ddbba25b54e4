/**
 * Load test: mixed-channel HTTP traffic against a real `nps start` (all roles, its own process),
 * as fast as the connections can go, then a reconciliation: every response the server accepted
 * must be counted exactly once, live and in history; none that it refused.
 *
 * Channels, in turn on every connection: the JSON API (batches of 10), Twilio SMS webhooks (signed),
 * Mailgun inbound-email webhooks (signed), and one-click score links (signed invitations).
 *
 *   npm run load -- --duration 60 --connections 16
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { up } from '../deploy/local/stack.js';
import { loadConfig } from '../src/config/config.js';
import { uncommitted } from '../src/kafka/topics.js';
import type { Endpoints } from '../src/config/endpoints.js';
import { signInvitation } from '../src/ingest/links.js';
import { mailgunSignature } from '../src/ingest/mailgun.js';
import { twilioSignature } from '../src/ingest/twilio-sms.js';

const CLI = fileURLToPath(new URL('../src/cli/nps.ts', import.meta.url));
const INGEST_KEY = 'load-ingest-key-0123456789';
const READ_KEY = 'load-read-key-0123456789';
const SECRETS = {
  TWILIO_AUTH_TOKEN: 'load-twilio-token-0123456789',
  MAILGUN_SIGNING_KEY: 'load-mailgun-key-0123456789',
  NPS_LINK_SECRET: 'load-link-secret-0123456789',
  NPS_PSEUDONYM_KEY: 'load-pseudonym-key-0123456789',
};
const API_BATCH = 10;
const CHANNELS = ['api', 'sms', 'email', 'link'] as const;
type Channel = (typeof CHANNELS)[number];

export interface LoadResult {
  readonly seconds: number;
  readonly connections: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly responsesPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly status2xx: number;
  readonly status4xx: number;
  readonly status5xx: number;
  readonly connectionErrors: number;
  /** Requests without an answer when the time was up, sent again afterwards. */
  readonly retried: number;
  readonly accepted: Record<Channel, number>;
  readonly acceptedTotal: number;
  readonly live: number;
  readonly history: number;
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** `nps start` in a child process with this run's own topic, group, prefix, database and folder. */
export async function startServer(env: Record<string, string>, port: number) {
  // BENCH_NODE_ARGS: extra node flags for the service only, e.g. --cpu-prof (not allowed in
  // NODE_OPTIONS).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, '--import', 'tsx', CLI, 'start', '--port', String(port)];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`nps start did not come up:\n${output}`);
    await sleep(50);
  }
  return {
    pid: child.pid ?? 0,
    output: () => output,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function drained(endpoints: Endpoints, topic: string, group: string): Promise<void> {
  const kafka = new Kafka({ brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if ((await uncommitted(admin, topic, group)) === 0) return;
      if (Date.now() > deadline) throw new Error('the processor did not catch up within 180 s');
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
}

async function readCounts(
  base: string,
  surveyId: string,
): Promise<{ live: number; history: number }> {
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${READ_KEY}` } });
    return (await res.json()) as { responses: number; series: { responses: number }[] };
  };
  const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
  const [live, history] = await Promise.all([
    get(`/v1/nps/live?surveyId=${surveyId}&window=1h`),
    get(`/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=hour`),
  ]);
  return { live: live.responses, history: history.series.reduce((n, b) => n + b.responses, 0) };
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

interface Built {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The same responses sent again, as a client that saw no answer would (same ids). */
  readonly again: () => Built;
}

/** One request of each channel; each call makes new responses with fresh ids and signatures. */
function requestFactories(base: string, surveyId: string): Record<Channel, () => Built> {
  let n = 0;
  const score = () => n++ % 11;
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  const same = (built: Omit<Built, 'again'>): Built => ({ ...built, again: () => same(built) });
  const mailgun = (messageId: string, sender: string, text: string): Built => {
    // Mailgun signs each delivery afresh; the Message-Id is what makes a retry the same response.
    const timestamp = String(Math.floor(Date.now() / 1000));
    const token = hex(25);
    return {
      path: `/v1/webhooks/mailgun?surveyId=${surveyId}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        timestamp,
        token,
        signature: mailgunSignature(SECRETS.MAILGUN_SIGNING_KEY, timestamp, token),
        sender,
        'Message-Id': messageId,
        'stripped-text': text,
      }),
      again: () => mailgun(messageId, sender, text),
    };
  };
  return {
    api: () =>
      same({
        path: '/v1/responses',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` },
        body: JSON.stringify(
          Array.from({ length: API_BATCH }, () => ({
            surveyId,
            responseId: randomUUID(),
            score: score(),
            channel: 'web',
            comment: n % 3 === 0 ? 'Leveringen tog for lang tid' : undefined,
            segment: { region: n % 2 === 0 ? 'dk' : 'se' },
          })),
        ),
      }),
    sms: () => {
      const path = `/v1/webhooks/twilio/sms?surveyId=${surveyId}`;
      const params = {
        MessageSid: `SM${hex(16)}`,
        From: `+4670${String(n).padStart(7, '0')}`,
        To: '+4520000000',
        Body: `${String(score())} snabb leverans`,
      };
      return same({
        path,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(SECRETS.TWILIO_AUTH_TOKEN, base + path, params),
        },
        body: form(params),
      });
    },
    email: () =>
      mailgun(
        `<${randomUUID()}@mail.example.dk>`,
        `kunde${String(n)}@example.dk`,
        `Jeg giver ${String(score())}, hurtig levering`,
      ),
    link: () => {
      const token = signInvitation(SECRETS.NPS_LINK_SECRET, {
        invitationId: randomUUID(),
        surveyId,
        channel: 'email',
        respondentId: null,
        expiresAt: Date.now() + 3_600_000,
      });
      return same({
        path: `/v1/r/${token}`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form({ score: String(score()) }),
      });
    },
  };
}

/** Responses the server took, judged from its answer: what must show up exactly once. */
function acceptedBy(channel: Channel, status: number, body: string): number {
  if (status < 200 || status >= 300) return 0;
  switch (channel) {
    case 'api':
      return (JSON.parse(body) as { accepted: number }).accepted;
    case 'email':
      return (JSON.parse(body) as { recorded: boolean }).recorded ? 1 : 0;
    case 'sms':
    case 'link':
      return 1;
  }
}

export async function runLoad(options: {
  seconds: number;
  connections: number;
  /** The services to use; the local stack (started if needed) when not given. */
  endpoints?: Endpoints;
  log?: (line: string) => void;
}): Promise<LoadResult> {
  const log = options.log ?? console.log;
  const id = randomUUID().replaceAll('-', '');
  const folder = mkdtempSync(join(tmpdir(), 'nps-load-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...SECRETS,
    NPS_TOPIC: `load.${id}`,
    NPS_DLQ_TOPIC: `load.${id}.dlq`,
    NPS_CONSUMER_GROUP: `load-${id}`,
    NPS_REDIS_PREFIX: `load:${id}:`,
    CLICKHOUSE_DATABASE: `load_${id}`,
    CLICKHOUSE_PATH: folder,
    NPS_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read`,
    PUBLIC_BASE_URL: base,
    NPS_RATE_LIMIT_PER_KEY: '0',
    NPS_RATE_LIMIT_PER_IP: '0',
  };
  const config = loadConfig({ ...process.env, ...env });
  const endpoints = options.endpoints ?? (await up(config)).endpoints;
  const clickhouse = endpoints.clickhouse;
  const childEnv: Record<string, string> = {
    ...env,
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    REDIS_URL: endpoints.redisUrl,
    ...(clickhouse.kind === 'server' && {
      CLICKHOUSE_URL: clickhouse.url,
      CLICKHOUSE_USER: clickhouse.user,
      CLICKHOUSE_PASSWORD: clickhouse.password,
    }),
  };
  const server = await startServer(childEnv, port);
  const surveyId = `load-${id.slice(0, 12)}`;
  const accepted: Record<Channel, number> = { api: 0, sms: 0, email: 0, link: 0 };
  const unanswered = new Map<Built, Channel>();
  try {
    const make = requestFactories(base, surveyId);
    log(`load: ${options.connections} connections for ${options.seconds} s against ${base}`);
    const result = await autocannon({
      url: base,
      connections: options.connections,
      duration: options.seconds,
      timeout: 30,
      method: 'POST',
      requests: CHANNELS.map((channel) => ({
        method: 'POST' as const,
        setupRequest: (request, context: { built?: Built }) => {
          const built = make[channel]();
          context.built = built;
          unanswered.set(built, channel);
          const { path, headers, body } = built;
          return { ...request, path, headers, body };
        },
        onResponse: (status: number, body: string, context: { built?: Built }) => {
          if (context.built) unanswered.delete(context.built);
          accepted[channel] += acceptedBy(channel, status, body);
        },
      })),
    });
    // Requests cut off when the time was up got no answer, yet may have been recorded: send
    // them again with the same ids, as a client would. Each must still count once.
    let retried5xx = 0;
    for (const [built, channel] of unanswered) {
      const { path, headers, body } = built.again();
      const res = await fetch(base + path, { method: 'POST', headers, body });
      if (res.status >= 500) retried5xx++;
      accepted[channel] += acceptedBy(channel, res.status, await res.text());
    }
    log(`load: ${unanswered.size} request(s) cut off at the end were sent again`);
    await drained(endpoints, config.topic, config.consumerGroup);
    const counts = await readCounts(base, surveyId);
    const acceptedTotal = Object.values(accepted).reduce((a, b) => a + b, 0);
    return {
      seconds: options.seconds,
      connections: options.connections,
      requests: result.requests.total,
      requestsPerSecond: Math.round(result.requests.average),
      responsesPerSecond: Math.round(acceptedTotal / options.seconds),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      status2xx: result['2xx'],
      status4xx: result['4xx'],
      status5xx: result['5xx'] + retried5xx,
      retried: unanswered.size,
      connectionErrors: result.errors + result.timeouts,
      accepted,
      acceptedTotal,
      ...counts,
    };
  } catch (error) {
    log(server.output().slice(-3000));
    throw error;
  } finally {
    await server.stop();
    const kafka = new Kafka({
      brokers: [...endpoints.kafkaBrokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [config.topic, config.deadLetterTopic] })
      .catch(() => undefined);
    await admin.disconnect();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      connections: { type: 'string', default: '16' },
    },
  });
  const result = await runLoad({
    seconds: Number(values.duration),
    connections: Number(values.connections),
  });
  console.log(JSON.stringify(result, null, 2));
  const exact = result.live === result.acceptedTotal && result.history === result.acceptedTotal;
  console.log(
    `\n${result.requestsPerSecond} requests/s, ${result.responsesPerSecond} responses/s accepted, ` +
      `latency p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms, ` +
      `5xx ${result.status5xx}, connection errors ${result.connectionErrors}\n` +
      `reconciliation: accepted ${result.acceptedTotal}, live ${result.live}, history ${result.history}: ` +
      (exact ? 'exact' : 'MISMATCH'),
  );
  process.exit(exact && result.status5xx === 0 ? 0 : 1);
}
