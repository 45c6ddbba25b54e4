import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, settings } from '../../src/config/config.js';
import { TABLE_END, TABLE_START, configRows } from '../../src/config/config-table.js';

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

  it('the README configuration table lists exactly the settings: name, default and meaning', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
    const rows = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) =>
        line
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((cell) => cell.trim().replaceAll('\\|', '|')),
      );
    const byName = new Map(rows.map((row) => [row[0], row]));
    // Each setting once, and no row without a setting (run `npm run docs:config` to fix it).
    expect(rows.map((row) => row[0])).toEqual(
      Object.values(settings).map((setting) => `\`${setting.env}\``),
    );
    expect(byName.size).toBe(rows.length);
    for (const setting of Object.values(settings)) {
      const [, shown, meaning] = byName.get(`\`${setting.env}\``) ?? [];
      expect(meaning, setting.env).toBe(setting.doc);
      if ('shownDefault' in setting) expect(shown, setting.env).toBe(setting.shownDefault);
      else if (!('fallback' in setting)) expect(shown, setting.env).toBe('none');
    }
    expect(rows).toEqual(configRows());
  });

  it('the README shows literal defaults as the fallbacks give them, and folders under ~', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const row = (env: string) =>
      readme.split('\n').find((line) => line.startsWith(`| \`${env}\``)) ?? '';
    expect(row('PORT')).toMatch(/^\| `PORT` +\| `8080` +\|/);
    expect(row('NPS_DEDUPE_DAYS')).toMatch(/\| `35` +\|/);
    expect(row('CLICKHOUSE_PATH')).toMatch(/\| `~\/\.local\/share\/nps-pipeline\/clickhouse` +\|/);
    expect(row('PUBLIC_BASE_URL')).toMatch(/\| `http:\/\/127\.0\.0\.1:\$PORT` +\|/);
    expect(row('NPS_CORS_ORIGINS')).toMatch(/\| none +\|/);
  });

  it('NPS_PSEUDONYM_KEY must be 16+ characters, as its format says, and the error shows no key', () => {
    const load = (key: string) => () => loadConfig({ HOME: '/h', NPS_PSEUDONYM_KEY: key });
    expect(load('short-key-12345')).toThrow(
      /NPS_PSEUDONYM_KEY is shorter than 16 characters \(expected secret, 16\+ characters\)/,
    );
    expect(load('short-key-12345')).not.toThrow(/short-key-12345/);
    expect(load('   short-key-123   ')).toThrow(/NPS_PSEUDONYM_KEY is shorter than 16/);
    expect(loadConfig({ HOME: '/h', NPS_PSEUDONYM_KEY: ' sixteen-chars-ok ' }).pseudonymKey).toBe(
      'sixteen-chars-ok',
    );
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
