import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import { inject, onTestFinished } from 'vitest';
import type { ClickHouseTarget } from '../../src/config/endpoints.js';
import { createClickHouse } from '../../src/storage/clickhouse.js';
import { createRedis } from '../../src/storage/redis.js';

/**
 * Per-test access to the real services resolved by global-setup. Every helper that creates a
 * resource registers its cleanup right there, and names it with a fresh UUID so tests running in
 * parallel never see each other's topics, groups, keys or tables.
 */

export const endpoints = () => inject('endpoints');

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function kafka(brokers: readonly string[] = endpoints().kafkaBrokers): Kafka {
  return new Kafka({
    clientId: 'nps-tests',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
}

/** A connected admin client, disconnected when the test ends. */
export async function kafkaAdmin(brokers?: readonly string[]): Promise<Admin> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  onTestFinished(() => admin.disconnect());
  return admin;
}

/** A fresh topic, deleted when the test ends. */
export async function createTopic(numPartitions = 1): Promise<string> {
  const topic = uniqueName('test');
  const admin = await kafkaAdmin();
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
  onTestFinished(async () => {
    await admin.deleteTopics({ topics: [topic] });
  });
  return topic;
}

/** A Redis client whose keys under the returned prefix are deleted when the test ends. */
export async function redis(): Promise<{ client: Redis; prefix: string }> {
  const client = createRedis(endpoints().redisUrl, 'consumer');
  await client.connect();
  const prefix = `${uniqueName('test')}:`;
  onTestFinished(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });
  return { client, prefix };
}

/** The worker's ClickHouse target: its own embedded folder, or the shared server. */
export function clickhouseTarget(): ClickHouseTarget {
  const resolved = endpoints().clickhouse;
  return resolved.kind === 'server'
    ? resolved
    : { kind: 'embedded', path: join(inject('clickhouseRoot'), `worker-${process.pid}`) };
}

let clickhouseClient: ClickHouseClient | undefined;

/**
 * The worker's ClickHouse client. The embedded engine allows one data folder per process and one
 * process per folder, so each worker process opens its own folder and keeps it for its life.
 */
export function clickhouse(): ClickHouseClient {
  if (clickhouseClient) return clickhouseClient;
  clickhouseClient = createClickHouse(clickhouseTarget());
  return clickhouseClient;
}

/** A fresh database, dropped when the test ends. */
export async function clickhouseDatabase(): Promise<string> {
  const database = `test_${randomUUID().replaceAll('-', '')}`;
  const client = clickhouse();
  // Identifiers cannot be query parameters; this one is ours, made of hex digits only.
  await client.command({ query: `CREATE DATABASE ${database}` });
  onTestFinished(async () => {
    await client.command({ query: `DROP DATABASE IF EXISTS ${database} SYNC` });
  });
  return database;
}
