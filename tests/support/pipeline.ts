import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/config.js';
import type { Endpoints } from '../../src/config/endpoints.js';
import { uncommitted } from '../../src/kafka/topics.js';
import { start } from '../../src/start.js';
import { History } from '../../src/storage/history.js';
import { LiveWindows } from '../../src/storage/live-windows.js';
import { rebuildLive } from '../../src/stream/rebuild-live.js';
import type { Redis } from 'ioredis';
import type { Role, Running } from '../../src/start.js';
import {
  clickhouse,
  clickhouseTarget,
  endpoints,
  kafka,
  kafkaAdmin,
  uniqueName,
} from './services.js';

export const INGEST_KEY = 'test-ingest-key-0123456789';
export const READ_KEY = 'test-read-key-0123456789';
export const ADMIN_KEY = 'test-admin-key-0123456789';
export const PUBLIC_BASE_URL = 'https://nps.example.test';
export const TWILIO_TOKEN = 'test-twilio-auth-token';
export const MAILGUN_KEY = 'test-mailgun-signing-key';

/** Env of one isolated pipeline: its own topic, group, key prefix and database. */
export function pipelineEnv(): Record<string, string> {
  const id = randomUUID().replaceAll('-', '');
  return {
    NPS_TOPIC: `test.responses.${id}`,
    NPS_DLQ_TOPIC: `test.responses.${id}.dlq`,
    NPS_INVITATION_TOPIC: `test.invitations.${id}`,
    NPS_EVENTS_TOPIC: `test.events.${id}`,
    NPS_EVENTS_DLQ_TOPIC: `test.events.${id}.dlq`,
    NPS_CONSUMER_GROUP: `test-processor-${id}`,
    NPS_REDIS_PREFIX: `test:${id}:`,
    CLICKHOUSE_DATABASE: `test_${id}`,
    NPS_TOPIC_PARTITIONS: '3',
    NPS_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read,${ADMIN_KEY}:admin`,
    PUBLIC_BASE_URL: PUBLIC_BASE_URL,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    MAILGUN_SIGNING_KEY: MAILGUN_KEY,
    NPS_LINK_SECRET: 'test-link-secret-0123456789',
    NPS_PSEUDONYM_KEY: 'test-pseudonym-key-0123456789',
  };
}

/** Cleans up everything a pipeline with this env wrote, when the test ends. */
export function cleanupPipeline(env: Record<string, string>): void {
  onTestFinished(async () => {
    const admin = await kafkaAdmin();
    const topics = await admin.listTopics();
    const ours = [
      env.NPS_TOPIC,
      env.NPS_DLQ_TOPIC,
      env.NPS_INVITATION_TOPIC,
      env.NPS_EVENTS_TOPIC,
      env.NPS_EVENTS_DLQ_TOPIC,
    ].filter((t): t is string => t !== undefined && topics.includes(t));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    await clickhouse().command({
      query: 'DROP DATABASE IF EXISTS {db:Identifier} SYNC',
      query_params: { db: env.CLICKHOUSE_DATABASE },
    });
  });
}

/** Starts the roles in this test process against the real services; closed when the test ends. */
export async function startPipeline(
  roles: readonly Role[] = ['ingest', 'process', 'api'],
  env: Record<string, string> = pipelineEnv(),
  services: Partial<Endpoints> = {},
): Promise<Running & { config: Config; env: Record<string, string> }> {
  const config = loadConfig({ ...process.env, ...env });
  cleanupPipeline(env);
  const running = await start({
    config,
    endpoints: { ...endpoints(), clickhouse: clickhouseTarget(), ...services },
    roles,
    port: 0,
    log: () => undefined,
  });
  onTestFinished(() => running.close());
  return { ...running, config, env };
}

export async function api(
  base: string,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    key?: string;
    contentType?: string;
    raw?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
  let body: string | undefined;
  if (init.raw !== undefined || init.body !== undefined) {
    headers['content-type'] = init.contentType ?? 'application/json';
    body = init.raw ?? JSON.stringify(init.body);
  }
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Polls until `check` returns a value that `done` accepts, or fails with the last value seen. */
export async function eventually<T>(
  check: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await check();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await sleep(100);
    last = await check();
  }
  return last;
}

export { uniqueName };

/** Waits until the processors' group has committed every record on the topic. */
export async function drained(
  config: Config,
  timeoutMs = 30_000,
  brokers?: readonly string[],
): Promise<void> {
  const admin = await kafkaAdmin(brokers);
  await eventually(
    () => uncommitted(admin, config.topic, config.consumerGroup),
    (n) => n === 0,
    timeoutMs,
  );
}

/** `nps rebuild-live` for this pipeline's config, run in the test process against `redis`. */
export async function rebuildLiveIn(
  config: Config,
  redis: Redis,
): Promise<{ responses: number; keysCleared: number }> {
  return rebuildLive({
    kafka: kafka(),
    redis,
    live: new LiveWindows(redis, {
      prefix: config.redisPrefix,
      dedupeDays: config.dedupeDays,
      erasureSecret: config.pseudonymKey,
      segmentKeys: config.segmentKeys,
      segmentMaxValues: config.segmentMaxValues,
    }),
    history: new History(clickhouse(), config.clickhouseDatabase),
    topic: config.topic,
    groupId: config.consumerGroup,
    redisPrefix: config.redisPrefix,
    dedupeDays: config.dedupeDays,
    now: Date.now,
  });
}

/**
 * Closes a pipeline, resets its consumer group to the start of the topic and starts it again with
 * the same env: Kafka replays everything, as after an operator's reset. Resolves once drained.
 */
export async function replayFromStart(
  pipeline: { close(): Promise<void> },
  env: Record<string, string>,
): Promise<Running & { config: Config; env: Record<string, string> }> {
  await pipeline.close();
  const config = loadConfig({ ...process.env, ...env });
  await resetToStart(config);
  const replayed = await startPipeline(undefined, env);
  await drained(config, 60_000);
  return replayed;
}

/** Resets the pipeline's consumer group to the start of its topic. */
export async function resetToStart(config: Config): Promise<void> {
  const admin = await kafkaAdmin();
  await admin.resetOffsets({ groupId: config.consumerGroup, topic: config.topic, earliest: true });
}

/**
 * Resets a consumer group to the start of `topic` once the group lets it: a member killed with
 * kill -9 stays in the group until its session times out (30 s), and Kafka refuses to reset the
 * offsets of a group with members.
 */
export async function resetWhenReleased(groupId: string, topic: string): Promise<void> {
  const admin = await kafkaAdmin();
  await eventually(
    () =>
      admin
        .resetOffsets({ groupId, topic, earliest: true })
        .then(() => true)
        .catch(() => false),
    (done) => done,
    60_000,
  );
}
