import { Redis } from 'ioredis';

/**
 * `producer` clients sit on request paths and fail fast: no offline queue, no retried commands,
 * so a Redis outage becomes an error the caller can answer with, not a hang. `consumer` clients
 * sit in the stream processor and keep retrying until Redis is back.
 */
export type RedisRole = 'producer' | 'consumer';

export function createRedis(url: string, role: RedisRole): Redis {
  if (role === 'producer') {
    return new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
    });
  }
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 5000),
  });
}
