import { Redis } from 'ioredis';

/**
 * `producer` clients sit on request paths and fail fast: no offline queue, no retried commands,
 * so a Redis outage becomes an error the caller can answer with, not a hang. `consumer` clients
 * sit in the stream processor and keep retrying until Redis is back.
 */
export type RedisRole = 'producer' | 'consumer';

export function createRedis(
  url: string,
  role: RedisRole,
  log: (message: string) => void = () => undefined,
): Redis {
  const client =
    role === 'producer'
      ? new Redis(url, {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: 2000,
        })
      : new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: null,
          retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 5000),
        });
  // ioredis reports every failed reconnect; say it once per outage (commands fail on their own).
  let down = false;
  client.on('error', (error: NodeJS.ErrnoException) => {
    if (down) return;
    down = true;
    log(`redis (${role}) unreachable: ${error.code ?? error.name}; reconnecting`);
  });
  client.on('ready', () => {
    if (down) log(`redis (${role}) reachable again`);
    down = false;
  });
  return client;
}
