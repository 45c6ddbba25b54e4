import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/config.js';
import {
  composeEndpoints,
  localStackEndpoints,
  resolveEndpoints,
} from '../../src/config/endpoints.js';
import type { Endpoints, ResolvedEndpoints, ServiceName } from '../../src/config/endpoints.js';
import { NpsError } from '../../src/errors.js';
import { embeddedClickHouseVersion } from '../../src/storage/clickhouse.js';
import { kafkaService } from './kafka.js';
import { portOpen, rssMiB, runningPid, stopDaemon, waitUntil } from './processes.js';
import { registryService } from './registry.js';
import { redisService } from './redis.js';
import type { LocalService } from './service.js';
import { execFileAsync } from './toolchain.js';

/**
 * The local stack: Kafka, Apicurio Registry and Redis as plain processes on loopback, for machines
 * without Docker. `up` is idempotent, `down` stops only the processes whose pid files it wrote.
 */

const COMPOSE_FILE = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));

type LocalServiceName = Exclude<ServiceName, 'clickhouse'>;

function localServices(config: Config): Record<LocalServiceName, LocalService> {
  const ctx = { config };
  return {
    kafkaBrokers: kafkaService(ctx),
    schemaRegistryUrl: registryService(ctx),
    redisUrl: redisService(ctx),
  };
}

export interface UpResult {
  readonly endpoints: ResolvedEndpoints;
  /** Services this call started (as opposed to found running or given by env). */
  readonly started: readonly string[];
  /** Stops exactly what this call started, nothing else. */
  readonly stop: () => Promise<void>;
}

/** Starts deploy/docker-compose.yml; returns how to stop it again. */
export type DockerStarter = () => Promise<{ readonly stop: () => Promise<void> }>;

async function bringUp(service: LocalService): Promise<boolean> {
  if (runningPid(service.daemon) !== undefined) {
    // Ours and alive: answering now, or soon (it may have been started a moment ago).
    await waitUntil(service.daemon, () => service.ready(), service.readyTimeoutMs);
    return false;
  }
  for (const { port, setting } of service.ports) {
    if (await portOpen(port)) {
      throw new NpsError(
        'PORT_TAKEN',
        `${service.daemon.name}: port ${port} on 127.0.0.1 is taken by a process this stack did not start. ` +
          `Stop it, or move the stack with ${setting}.`,
      );
    }
  }
  await service.install();
  await service.start();
  await waitUntil(service.daemon, () => service.ready(), service.readyTimeoutMs);
  return true;
}

/** Starts one service of the local stack unless it already runs; true when this call started it. */
export { bringUp as startService };

async function localUp(config: Config, missing: readonly ServiceName[]): Promise<string[]> {
  mkdirSync(config.stackDir, { recursive: true });
  const services = localServices(config);
  const wanted = missing.filter((s): s is LocalServiceName => s !== 'clickhouse');
  // Downloads run one after the other (one Maven repository), starts in parallel.
  for (const name of wanted) await services[name].install();
  const results = await Promise.allSettled(wanted.map((name) => bringUp(services[name])));
  const startedNow = wanted.filter((_, i) => {
    const result = results[i];
    return result?.status === 'fulfilled' && result.value;
  });
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    // Leave nothing half-up behind: stop what this call started, then report every failure.
    await down(
      config,
      startedNow.map((n) => services[n].daemon.name),
    );
    throw failures.length === 1
      ? failures[0]
      : new AggregateError(
          failures,
          failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n'),
        );
  }
  if (missing.includes('clickhouse')) {
    // Proves the native engine loads here; the data folder itself belongs to the app.
    await embeddedClickHouseVersion();
  }
  return startedNow.map((n) => services[n].daemon.name);
}

const composeCli: DockerStarter = async () => {
  const compose = ['compose', '-f', COMPOSE_FILE];
  await execFileAsync('docker', [...compose, 'up', '-d', '--wait'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return {
    stop: async () => {
      await execFileAsync('docker', [...compose, 'down'], { maxBuffer: 16 * 1024 * 1024 });
    },
  };
};

/** Resolves endpoints in the one order of src/config/endpoints.ts, starting what is missing. */
export async function up(
  config: Config = loadConfig(),
  docker: DockerStarter = composeCli,
): Promise<UpResult> {
  let started: string[] = [];
  let stop = () => Promise.resolve();
  const endpoints = await resolveEndpoints(config, {
    docker: async () => {
      ({ stop } = await docker());
      started = ['docker compose'];
      return composeEndpoints();
    },
    local: async (missing) => {
      started = await localUp(config, missing);
      const ours = started;
      stop = async () => {
        await down(config, ours);
      };
      return localStackEndpoints(config);
    },
  });
  return { endpoints, started, stop };
}

/** Stops the local stack's processes, by pid file; `only` limits it to some of them. */
export async function down(
  config: Config = loadConfig(),
  only?: readonly string[],
): Promise<string[]> {
  const stopped: string[] = [];
  for (const service of Object.values(localServices(config))) {
    if (only && !only.includes(service.daemon.name)) continue;
    if (await stopDaemon(service.daemon)) stopped.push(service.daemon.name);
  }
  return stopped;
}

export interface ServiceStatus {
  readonly name: string;
  readonly version: string;
  readonly running: boolean;
  readonly pid: number | undefined;
  readonly rssMiB: number | undefined;
  readonly address: string;
  readonly logFile: string;
}

export async function status(
  config: Config = loadConfig(),
  only: readonly ServiceName[] = ['kafkaBrokers', 'schemaRegistryUrl', 'redisUrl'],
): Promise<ServiceStatus[]> {
  const services = localServices(config);
  const wanted = only.filter((s): s is LocalServiceName => s !== 'clickhouse');
  return Promise.all(
    wanted.map(async (name) => {
      const service = services[name];
      const pid = runningPid(service.daemon);
      return {
        name: service.daemon.name,
        version: await service.version().catch(() => 'unknown'),
        running: pid !== undefined,
        pid,
        rssMiB: pid === undefined ? undefined : rssMiB(pid),
        address: service.address,
        logFile: service.daemon.logFile,
      };
    }),
  );
}

/** The endpoints as env lines a shell can `eval` or a user can copy. */
export function envLines(endpoints: Endpoints): string[] {
  const lines = [
    `KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')}`,
    `SCHEMA_REGISTRY_URL=${endpoints.schemaRegistryUrl}`,
    `REDIS_URL=${endpoints.redisUrl}`,
  ];
  const ch = endpoints.clickhouse;
  lines.push(ch.kind === 'server' ? `CLICKHOUSE_URL=${ch.url}` : `CLICKHOUSE_PATH=${ch.path}`);
  return lines.map((l) => `export ${l}`);
}

function table(rows: readonly ServiceStatus[]): string {
  const cells = [
    ['service', 'state', 'pid', 'rss', 'address', 'log'],
    ...rows.map((r) => [
      `${r.name} ${r.version}`,
      r.running ? 'running' : 'stopped',
      r.pid === undefined ? '-' : String(r.pid),
      r.rssMiB === undefined ? '-' : `${r.rssMiB} MiB`,
      r.address,
      r.logFile,
    ]),
  ];
  const widths =
    cells[0]?.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length))) ?? [];
  return cells
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(command: string | undefined): Promise<void> {
  const config = loadConfig();
  switch (command) {
    case 'up': {
      const began = Date.now();
      const { endpoints, started } = await up(config);
      const took = ((Date.now() - began) / 1000).toFixed(1);
      console.log(
        started.length > 0
          ? `Started ${started.join(', ')} in ${took}s.`
          : `Already up (checked in ${took}s).`,
      );
      const local = Object.entries(endpoints.sources).flatMap(([service, source]) =>
        source === 'local' ? [service as ServiceName] : [],
      );
      if (local.length > 0) console.log(`\n${table(await status(config, local))}`);
      console.log(`\nEnvironment for the app and tests:\n${envLines(endpoints).join('\n')}`);
      return;
    }
    case 'down': {
      const stopped = await down(config);
      console.log(
        stopped.length > 0
          ? `Stopped ${stopped.join(', ')}.`
          : 'Nothing of the local stack was running.',
      );
      return;
    }
    case 'status': {
      console.log(table(await status(config)));
      return;
    }
    default:
      console.error('usage: stack.ts up | down | status');
      process.exitCode = 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
