import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import {
  composeEndpoints,
  localStackEndpoints,
  resolveEndpoints,
} from '../../src/config/endpoints.js';
import type { Endpoints, ServiceName } from '../../src/config/endpoints.js';

function recorder(endpoints: Endpoints) {
  const calls: (readonly ServiceName[])[] = [];
  const provision = (missing: readonly ServiceName[]) => {
    calls.push(missing);
    return Promise.resolve(endpoints);
  };
  return { calls, provision };
}

describe('endpoint resolution order', () => {
  const base = { HOME: '/h' };

  it('uses env alone and provisions nothing when every service is given', async () => {
    const config = loadConfig({
      ...base,
      KAFKA_BROKERS: 'k:9092',
      SCHEMA_REGISTRY_URL: 'http://r:8081',
      REDIS_URL: 'redis://c:6379',
      CLICKHOUSE_URL: 'http://ch:8123',
    });
    const docker = recorder(composeEndpoints());
    const local = recorder(localStackEndpoints(config));
    const resolved = await resolveEndpoints(
      config,
      { docker: docker.provision, local: local.provision },
      () => Promise.resolve(true),
    );
    expect(resolved.kafkaBrokers).toEqual(['k:9092']);
    expect(resolved.clickhouse).toEqual({
      kind: 'server',
      url: 'http://ch:8123',
      user: 'default',
      password: '',
    });
    expect(Object.values(resolved.sources)).toEqual(['env', 'env', 'env', 'env']);
    expect(docker.calls).toEqual([]);
    expect(local.calls).toEqual([]);
  });

  it('an env var wins for its service; the rest come from Docker when an engine answers', async () => {
    const config = loadConfig({ ...base, REDIS_URL: 'redis://mine:6379' });
    const docker = recorder(composeEndpoints());
    const local = recorder(localStackEndpoints(config));
    const resolved = await resolveEndpoints(
      config,
      { docker: docker.provision, local: local.provision },
      () => Promise.resolve(true),
    );
    expect(resolved.redisUrl).toBe('redis://mine:6379');
    expect(resolved.kafkaBrokers).toEqual(['127.0.0.1:19092']);
    expect(resolved.clickhouse.kind).toBe('server');
    expect(resolved.sources).toEqual({
      kafkaBrokers: 'docker',
      schemaRegistryUrl: 'docker',
      redisUrl: 'env',
      clickhouse: 'docker',
    });
    expect(docker.calls).toEqual([['kafkaBrokers', 'schemaRegistryUrl', 'clickhouse']]);
    expect(local.calls).toEqual([]);
  });

  it('without a Docker engine the local stack provides the rest, ClickHouse embedded', async () => {
    const config = loadConfig({ ...base, CLICKHOUSE_PATH: '/data/ch' });
    const docker = recorder(composeEndpoints());
    const local = recorder(localStackEndpoints(config));
    const resolved = await resolveEndpoints(
      config,
      { docker: docker.provision, local: local.provision },
      () => Promise.resolve(false),
    );
    expect(resolved.clickhouse).toEqual({ kind: 'embedded', path: '/data/ch' });
    expect(resolved.schemaRegistryUrl).toBe('http://127.0.0.1:18081/apis/ccompat/v7');
    expect(docker.calls).toEqual([]);
    expect(local.calls).toHaveLength(1);
  });
});
