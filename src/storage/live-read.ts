import type { Redis } from 'ioredis';
import { luaScript } from './lua-script.js';

const READ = luaScript('live-read');

interface ReadCommand {
  npsLiveRead(numberOfKeys: number, ...keys: string[]): Promise<[number, number, number]>;
}

const defined = new WeakSet<Redis>();

/**
 * Promoters, passives and detractors summed over `buckets` (whole keys) in one script call, so a
 * read costs one command whatever its window (one HMGET per bucket cost the API ~1 ms of CPU per
 * 30-day read). A bucket that does not exist counts nothing.
 */
export async function sumBuckets(
  redis: Redis,
  buckets: readonly string[],
): Promise<[number, number, number]> {
  if (buckets.length === 0) return [0, 0, 0];
  if (!defined.has(redis)) {
    // Without numberOfKeys: the key count is the call's first argument.
    redis.defineCommand('npsLiveRead', { lua: READ });
    defined.add(redis);
  }
  return (redis as unknown as ReadCommand).npsLiveRead(buckets.length, ...buckets);
}
