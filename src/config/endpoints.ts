import { existsSync } from 'node:fs';
import { request } from 'node:http';
import type { Config } from './config.js';
import { LOCAL_PORTS } from './config.js';

/**
 * Where the four services are. This module owns the one resolution order used by the app and the
 * tests alike: an explicit env var wins, service by service; for the services left, a Docker
 * engine that answers means docker compose (the app) or testcontainers (the tests); otherwise the
 * local stack of deploy/local.
 */

export type ClickHouseTarget =
  | {
      readonly kind: 'server';
      readonly url: string;
      readonly user: string;
      readonly password: string;
    }
  | { readonly kind: 'embedded'; readonly path: string };

export interface Endpoints {
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
  readonly clickhouse: ClickHouseTarget;
}

export type ServiceName = keyof Endpoints;
export type EndpointSource = 'env' | 'docker' | 'local';

export interface ResolvedEndpoints extends Endpoints {
  readonly sources: Readonly<Record<ServiceName, EndpointSource>>;
}

/** Brings up (or finds) the services named and returns their endpoints. */
export type Provisioner = (missing: readonly ServiceName[]) => Promise<Endpoints>;

const REGISTRY_PATH = '/apis/ccompat/v7';

/** Endpoints of deploy/local: fixed loopback ports, ClickHouse embedded in CLICKHOUSE_PATH. */
export function localStackEndpoints(config: Config): Endpoints {
  return {
    kafkaBrokers: [`127.0.0.1:${config.stackKafkaPort}`],
    schemaRegistryUrl: `http://127.0.0.1:${config.stackRegistryPort}${REGISTRY_PATH}`,
    redisUrl: `redis://127.0.0.1:${config.stackRedisPort}`,
    clickhouse: { kind: 'embedded', path: config.clickhousePath },
  };
}

/** Endpoints of deploy/docker-compose.yml: the same ports, ClickHouse as a server. */
export function composeEndpoints(): Endpoints {
  return {
    kafkaBrokers: [`127.0.0.1:${LOCAL_PORTS.kafka}`],
    schemaRegistryUrl: `http://127.0.0.1:${LOCAL_PORTS.schemaRegistry}${REGISTRY_PATH}`,
    redisUrl: `redis://127.0.0.1:${LOCAL_PORTS.redis}`,
    clickhouse: {
      kind: 'server',
      url: `http://127.0.0.1:${LOCAL_PORTS.clickhouseHttp}`,
      user: 'default',
      password: '',
    },
  };
}

function fromEnv(config: Config): Partial<Endpoints> {
  return {
    ...(config.kafkaBrokers && { kafkaBrokers: config.kafkaBrokers }),
    ...(config.schemaRegistryUrl && { schemaRegistryUrl: config.schemaRegistryUrl }),
    ...(config.redisUrl && { redisUrl: config.redisUrl }),
    ...(config.clickhouseUrl && {
      clickhouse: {
        kind: 'server',
        url: config.clickhouseUrl,
        user: config.clickhouseUser,
        password: config.clickhousePassword,
      },
    }),
  };
}

const SERVICES: readonly ServiceName[] = [
  'kafkaBrokers',
  'schemaRegistryUrl',
  'redisUrl',
  'clickhouse',
];

export async function resolveEndpoints(
  config: Config,
  provisioners: { readonly docker: Provisioner; readonly local: Provisioner },
  dockerAnswers: () => Promise<boolean> = dockerEngineAnswers,
): Promise<ResolvedEndpoints> {
  const explicit = fromEnv(config);
  const missing = SERVICES.filter((s) => explicit[s] === undefined);
  if (missing.length === 0) {
    return { ...(explicit as Endpoints), sources: sourcesFor([], 'env') };
  }
  const source: EndpointSource = (await dockerAnswers()) ? 'docker' : 'local';
  const provided = await provisioners[source](missing);
  return { ...provided, ...explicit, sources: sourcesFor(missing, source) };
}

function sourcesFor(
  missing: readonly ServiceName[],
  source: EndpointSource,
): Record<ServiceName, EndpointSource> {
  const entries = SERVICES.map((s) => [s, missing.includes(s) ? source : 'env'] as const);
  return Object.fromEntries(entries) as Record<ServiceName, EndpointSource>;
}

/**
 * True when a Docker engine answers `GET /_ping` on its unix socket within a second. The docker
 * CLI alone (present on machines with no engine) does not count.
 */
export async function dockerEngineAnswers(
  socketPath = '/var/run/docker.sock',
  timeoutMs = 1000,
): Promise<boolean> {
  if (!existsSync(socketPath)) return false;
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(false);
    });
    req.end();
  });
}
