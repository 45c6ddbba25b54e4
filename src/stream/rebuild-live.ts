import type { Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import { NpsError } from '../errors.js';
import type { History, StoredResponse } from '../storage/history.js';
import type { LiveWindows } from '../storage/live-windows.js';
import { RedisKeys } from '../storage/redis-keys.js';

export interface RebuildDeps {
  readonly kafka: Kafka;
  readonly redis: Redis;
  readonly live: LiveWindows;
  readonly history: History;
  readonly topic: string;
  readonly groupId: string;
  readonly redisPrefix: string;
  readonly dedupeDays: number;
  readonly now: () => number;
}

/**
 * Rebuilds Redis (live windows, first-copy marks, offset fences, erasure marks) from ClickHouse after Redis lost
 * its data. Every committed offset is in ClickHouse (the processor inserts before it commits), so
 * replaying the stored responses through the processor's own Lua script, partition by partition in
 * offset order, leaves Redis as if it had never been lost; what was not committed yet is replayed
 * from Kafka when the processors start again. Runs only while no processor is in the group.
 */
export async function rebuildLive(
  deps: RebuildDeps,
): Promise<{ responses: number; keysCleared: number }> {
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([deps.groupId]);
    const members = groups[0]?.members.length ?? 0;
    if (members > 0) {
      throw new NpsError(
        'PROCESSOR_RUNNING',
        `${members} processor(s) are in consumer group ${deps.groupId}; stop them before rebuild-live`,
      );
    }
  } finally {
    await admin.disconnect();
  }

  // Whatever is left is stale: start from nothing under our prefix. The sets of tracked segment
  // values (segvals:) stay: with them every value maps to the bucket it was counted in before;
  // only when Redis lost them too are they admitted again, in the order of this replay.
  let keysCleared = 0;
  for (const match of new RedisKeys(deps.redisPrefix).rebuiltPatterns) {
    const stream = deps.redis.scanStream({ match, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (keys.length > 0) keysCleared += await deps.redis.unlink(...keys);
    }
  }

  // Erasures first, so that nothing replayed from now on can bring an erased respondent back.
  const erasures = await deps.history.erasures();
  await deps.live.restoreErasures(erasures);

  let responses = 0;
  const now = deps.now();
  for await (const page of deps.history.storedSince(now - deps.dedupeDays * 86_400_000)) {
    let start = 0;
    while (start < page.length) {
      const partition = page[start]?.partition;
      let end = start;
      while (end < page.length && page[end]?.partition === partition) end++;
      const records: StoredResponse[] = page.slice(start, end);
      if (partition !== undefined)
        await deps.live.applyPartitionBatch(deps.topic, partition, records, now);
      responses += records.length;
      start = end;
    }
  }
  return { responses, keysCleared };
}
