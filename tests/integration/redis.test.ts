import { describe, expect, it } from 'vitest';
import { redis } from '../support/services.js';

describe('Redis', () => {
  it('a pipelined write of a hash and its expiry reads back within one round trip', async () => {
    const { client, prefix } = await redis();
    const key = `${prefix}window:checkout:202611221015`;

    const results = await client
      .multi()
      .hincrby(key, 'promoters', 2)
      .hincrby(key, 'detractors', 1)
      .pexpire(key, 60_000)
      .exec();
    expect(results?.map(([error]) => error)).toEqual([null, null, null]);

    expect(await client.hgetall(key)).toEqual({ promoters: '2', detractors: '1' });
    const ttl = await client.pttl(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
