import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, settings } from '../../src/config/config.js';

describe('configuration', () => {
  it('falls back to the local stack ports and user-level folders when nothing is set', () => {
    const config = loadConfig({ HOME: '/home/ops' });
    expect(config.kafkaBrokers).toBeUndefined();
    expect(config.stackKafkaPort).toBe(19092);
    expect(config.stackRedisPort).toBe(16379);
    expect(config.cacheDir).toBe('/home/ops/.cache/nps-pipeline');
    expect(config.stackDir).toBe('/home/ops/.local/state/nps-pipeline/stack');
    expect(config.clickhousePath).toBe('/home/ops/.local/share/nps-pipeline/clickhouse');
  });

  it('parses explicit endpoints and honours XDG folders', () => {
    const config = loadConfig({
      HOME: '/home/ops',
      XDG_CACHE_HOME: '/var/cache/ops',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      SCHEMA_REGISTRY_URL: 'http://registry:8081/apis/ccompat/v7/',
      REDIS_URL: 'rediss://cache:6380',
    });
    expect(config.kafkaBrokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.schemaRegistryUrl).toBe('http://registry:8081/apis/ccompat/v7');
    expect(config.redisUrl).toBe('rediss://cache:6380');
    expect(config.cacheDir).toBe('/var/cache/ops/nps-pipeline');
  });

  it('names every bad key with the format it expects, all in one error', () => {
    const load = () =>
      loadConfig({
        HOME: '/h',
        KAFKA_BROKERS: 'localhost',
        REDIS_URL: 'http://cache:6379',
        NPS_STACK_REDIS_PORT: '70000',
      });
    expect(load).toThrow(
      /KAFKA_BROKERS has "localhost", not host:port \(expected comma-separated host:port list\)/,
    );
    expect(load).toThrow(/REDIS_URL has protocol http:, expected redis: or rediss:/);
    expect(load).toThrow(/NPS_STACK_REDIS_PORT is not a port number \(expected TCP port 1-65535\)/);
  });

  it('every setting is documented in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const setting of Object.values(settings)) {
      expect(readme, setting.env).toContain(`\`${setting.env}\``);
    }
  });
});

describe('API keys', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  it('keeps only digests; a key may be given hashed, restricted to surveys, and listed once per scope', () => {
    const { apiKeys } = loadConfig({
      HOME: '/h',
      NPS_API_KEYS: `plain-key-0123456789:ingest, plain-key-0123456789:read, sha256:${sha('hashed-secret')}:read:shop.dk|shop.se`,
    });
    expect(apiKeys).toHaveLength(2);
    const [plain, hashed] = apiKeys;
    expect(plain?.sha256.toString('hex')).toBe(sha('plain-key-0123456789'));
    expect([...(plain?.scopes ?? [])]).toEqual(['ingest', 'read']);
    expect(plain?.surveys).toBeNull();
    expect(hashed?.plain).toBeUndefined();
    expect([...(hashed?.surveys ?? [])]).toEqual(['shop.dk', 'shop.se']);
  });

  it('refuses short keys, unknown scopes and bad survey lists without echoing the key', () => {
    const load = (keys: string) => () => loadConfig({ HOME: '/h', NPS_API_KEYS: keys });
    expect(load('short:ingest')).toThrow(/NPS_API_KEYS has a key shorter than 16 characters/);
    expect(load('long-enough-key-0123:write')).toThrow(/not key:scope\[:surveys\]/);
    expect(load('long-enough-key-0123:read:bad survey')).toThrow(/survey restriction/);
    expect(load('long-enough-key-0123:write')).not.toThrow(/long-enough-key-0123/);
  });
});
