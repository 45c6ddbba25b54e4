import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { NpsError } from '../../src/errors.js';
import { commandExists, execFileAsync } from './toolchain.js';
import type { LocalService, StackContext } from './service.js';
import { startDaemon } from './processes.js';

async function redisVersion(): Promise<string> {
  const { stdout } = await execFileAsync('redis-server', ['--version']);
  return /v=(\S+)/.exec(stdout)?.[1] ?? 'unknown';
}

/** Debian's redis-server; installed with apt-get when we are root and it is missing. */
async function ensureRedisServer(): Promise<void> {
  if (await commandExists('redis-server')) return;
  const root = process.getuid?.() === 0;
  if (!root || !(await commandExists('apt-get'))) {
    throw new NpsError(
      'PREREQUISITE_MISSING',
      'redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install redis-server) ' +
        'or point REDIS_URL at a Redis you run.',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-q', '--no-install-recommends', 'redis-server'];
  try {
    await execFileAsync('apt-get', install, { env });
  } catch {
    // A fresh machine has no package lists yet.
    await execFileAsync('apt-get', ['update', '-q'], { env });
    await execFileAsync('apt-get', install, { env });
  }
}

export function redisService(ctx: StackContext): LocalService {
  const port = ctx.config.stackRedisPort;
  const home = join(ctx.config.stackDir, 'redis');
  const configFile = join(home, 'redis.conf');
  const url = `redis://127.0.0.1:${port}`;
  const daemon = {
    name: 'Redis',
    pidFile: join(home, 'redis.pid'),
    logFile: join(home, 'redis.log'),
    // Redis rewrites its process title; the template below keeps the config path in it.
    marker: configFile,
  };

  return {
    daemon,
    version: async () => ((await commandExists('redis-server')) ? redisVersion() : 'not installed'),
    address: url,
    env: { REDIS_URL: url },
    ports: [{ port, setting: 'NPS_STACK_REDIS_PORT' }],
    readyTimeoutMs: 15_000,

    install: ensureRedisServer,

    start() {
      mkdirSync(home, { recursive: true });
      writeFileSync(
        configFile,
        [
          '# Written by deploy/local/redis.ts on every start.',
          'bind 127.0.0.1',
          `port ${port}`,
          'protected-mode yes',
          'daemonize no',
          `dir ${home}`,
          'proc-title-template "{title} {listen-addr} {config-file}"',
          // Live windows are rebuilt from history if lost, but an append-only file makes a restart cheap.
          'appendonly yes',
          'appendfsync everysec',
          'save ""',
          'maxmemory-policy noeviction',
          '',
        ].join('\n'),
      );
      startDaemon(daemon, 'redis-server', [configFile], { cwd: home });
      return Promise.resolve();
    },

    async ready() {
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
        connectTimeout: 1000,
      });
      // A refused connection is the expected answer while Redis starts; connect() reports it.
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    },
  };
}
