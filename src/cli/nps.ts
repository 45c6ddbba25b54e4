#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { SCOPES, loadConfig } from '../config/config.js';
import type { Scope } from '../config/config.js';
import { localAdminKey } from '../dashboard/first-run.js';
import { apiKeysEntry, newApiKey } from '../dashboard/keys.js';
import { composeEndpoints, localStackEndpoints, resolveEndpoints } from '../config/endpoints.js';
import { NpsError } from '../errors.js';
import { createClickHouse } from '../storage/clickhouse.js';
import { migrate } from '../storage/migrations.js';
import { ROLES, start } from '../start.js';
import { runDemo } from './demo.js';
import { Kafka, logLevel } from 'kafkajs';
import { History } from '../storage/history.js';
import { LiveWindows } from '../storage/live-windows.js';
import { createRedis } from '../storage/redis.js';
import { rebuildLive } from '../stream/rebuild-live.js';
import { retag } from '../stream/retag.js';
import { SURVEY_ID, parseIsoInstant } from '../domain/response.js';
import { createTagger } from '../themes/tagger.js';
import { defaultTaxonomy, loadTaxonomy } from '../themes/taxonomy.js';
import type { Role } from '../start.js';
import { SQL_USAGE, sqlCommand } from '../sql/cli.js';

const USAGE = `usage:
  nps start [--roles ingest,process,api,deliver] [--port N]
  nps migrate
  nps rebuild-live
  nps retag [--since 2026-01-01T00:00:00Z]
  nps demo [--rate N] [--duration S] [--survey ID] [--url URL]
  nps keys create --scope ingest|read|sql|admin [--surveys ID|ID]
${SQL_USAGE}`;

/** Services come from env, else docker compose or the local stack (npm run services:up). */
async function endpoints(config: ReturnType<typeof loadConfig>) {
  return resolveEndpoints(config, {
    docker: () => Promise.resolve(composeEndpoints()),
    local: () => Promise.resolve(localStackEndpoints(config)),
  });
}

function parseRoles(raw: string): Role[] {
  const roles = raw.split(',').map((r) => r.trim());
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length > 0 || roles.length === 0) {
    throw new NpsError(
      'CONFIG_INVALID',
      `--roles takes a comma list of ${ROLES.join(', ')}; got ${raw}`,
    );
  }
  return roles as Role[];
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    console.log(USAGE);
    return;
  }
  // The SQL endpoint's clients take options of their own.
  if (argv[0] === 'sql' || argv[0] === 'export') {
    await sqlCommand(argv, loadConfig(), process.stdout);
    return;
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      roles: { type: 'string', default: ROLES.join(',') },
      port: { type: 'string' },
      rate: { type: 'string', default: '20' },
      duration: { type: 'string' },
      survey: { type: 'string', default: 'demo' },
      url: { type: 'string' },
      since: { type: 'string' },
      scope: { type: 'string' },
      surveys: { type: 'string' },
    },
  });
  const config = loadConfig();
  switch (positionals[0]) {
    case 'migrate': {
      const client = createClickHouse((await endpoints(config)).clickhouse);
      const applied = await migrate(client, config.clickhouseDatabase);
      console.log(applied.length > 0 ? `applied ${applied.join(', ')}` : 'nothing to apply');
      await client.close();
      return;
    }
    case 'start': {
      const roles = parseRoles(values.roles);
      let stop = (reason: string, code: number): void => {
        console.error(`${reason} before start finished; exiting`);
        process.exit(code);
      };
      const running = await start({
        config,
        endpoints: await endpoints(config),
        roles,
        ...(values.port !== undefined && { port: Number(values.port) }),
        // A processor that cannot go on exits, for its supervisor to start it again.
        onFatal: () => {
          stop('processor stopped', 1);
        },
      });
      console.log(`nps ${roles.join(',')} listening on ${running.url}`);
      if (running.sqlUrl)
        console.log(`SQL endpoint (ClickHouse HTTP, read-only) on ${running.sqlUrl}`);
      stop = (reason: string, code: number) => {
        console.log(`${reason}: shutting down`);
        const timer = setTimeout(() => {
          console.error('shutdown took over 30s; exiting');
          process.exit(1);
        }, 30_000);
        timer.unref();
        void running.close().then(() => {
          process.exitCode = code;
        });
      };
      process.once('SIGTERM', () => {
        stop('SIGTERM', 0);
      });
      process.once('SIGINT', () => {
        stop('SIGINT', 0);
      });
      return;
    }
    case 'rebuild-live': {
      const resolved = await endpoints(config);
      const clickhouse = createClickHouse(resolved.clickhouse);
      const redis = createRedis(resolved.redisUrl, 'consumer');
      await redis.connect();
      try {
        await migrate(clickhouse, config.clickhouseDatabase);
        const result = await rebuildLive({
          kafka: new Kafka({
            clientId: 'nps-rebuild-live',
            brokers: [...resolved.kafkaBrokers],
            logLevel: logLevel.ERROR,
          }),
          redis,
          live: new LiveWindows(redis, {
            prefix: config.redisPrefix,
            dedupeDays: config.dedupeDays,
            erasureSecret: config.pseudonymKey,
            segmentKeys: config.segmentKeys,
            segmentMaxValues: config.segmentMaxValues,
          }),
          history: new History(clickhouse, config.clickhouseDatabase),
          topic: config.topic,
          groupId: config.consumerGroup,
          redisPrefix: config.redisPrefix,
          dedupeDays: config.dedupeDays,
          now: Date.now,
        });
        console.log(
          `rebuilt live windows from ${result.responses} stored responses (${result.keysCleared} stale keys cleared)`,
        );
      } finally {
        await redis.quit();
        await clickhouse.close();
      }
      return;
    }
    case 'retag': {
      const since = values.since === undefined ? null : parseIsoInstant(values.since);
      if (since === null && values.since !== undefined) {
        throw new NpsError('CONFIG_INVALID', '--since takes an ISO-8601 date-time with a zone');
      }
      const taxonomy =
        config.taxonomy === undefined ? defaultTaxonomy() : loadTaxonomy(config.taxonomy);
      const client = createClickHouse((await endpoints(config)).clickhouse);
      try {
        await migrate(client, config.clickhouseDatabase);
        const tagged = await retag({
          client,
          database: config.clickhouseDatabase,
          tagger: createTagger(taxonomy),
          since,
          log: (m) => {
            console.log(m);
          },
        });
        console.log(`retag: ${tagged} responses now tagged by taxonomy ${taxonomy.version}`);
      } finally {
        await client.close();
      }
      return;
    }
    case 'keys': {
      const scope = values.scope ?? '';
      const surveys = values.surveys === undefined ? null : values.surveys.split('|');
      if (positionals[1] !== 'create' || !(SCOPES as readonly string[]).includes(scope)) {
        throw new NpsError(
          'CONFIG_INVALID',
          `usage: nps keys create --scope ${SCOPES.join('|')} [--surveys ID|ID]`,
        );
      }
      if (surveys?.some((id) => !SURVEY_ID.test(id))) {
        throw new NpsError('CONFIG_INVALID', '--surveys takes survey ids separated by |');
      }
      const key = newApiKey();
      console.log(`key: ${key}`);
      console.log(`NPS_API_KEYS entry: ${apiKeysEntry(key, scope as Scope, surveys)}`);
      return;
    }
    case 'demo': {
      const rate = Number(values.rate);
      const duration = values.duration === undefined ? undefined : Number(values.duration);
      // Without NPS_API_KEYS, the local admin key a first `nps start` on loopback made.
      const key =
        config.apiKeys.length === 0
          ? localAdminKey(config.stateDir)
          : config.apiKeys.find((k) => k.scopes.has('ingest') && k.plain !== undefined)?.plain;
      if (!Number.isInteger(rate) || rate < 1 || rate > 1000) {
        throw new NpsError('CONFIG_INVALID', '--rate takes responses per second, 1-1000');
      }
      if (duration !== undefined && !(duration > 0)) {
        throw new NpsError('CONFIG_INVALID', '--duration takes seconds');
      }
      if (key === undefined)
        throw new NpsError(
          'CONFIG_INVALID',
          config.apiKeys.length === 0
            ? `No key to send with: NPS_API_KEYS is empty and ${config.stateDir} has no local admin key yet (npm start makes one)`
            : 'NPS_API_KEYS has no key with the ingest scope',
        );
      let stop = false;
      process.once('SIGINT', () => (stop = true));
      process.once('SIGTERM', () => (stop = true));
      const baseUrl = values.url ?? `http://127.0.0.1:${config.port}`;
      console.log(`sending ${rate} responses/s for survey ${values.survey} to ${baseUrl}`);
      const accepted = await runDemo({
        baseUrl,
        apiKey: key,
        rate,
        surveyId: values.survey,
        durationSeconds: duration,
        log: (m) => {
          console.log(m);
        },
        stopped: () => stop,
      });
      console.log(`done: ${accepted} responses accepted`);
      return;
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
