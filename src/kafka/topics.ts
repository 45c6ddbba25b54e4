import type { Admin } from 'kafkajs';

export interface TopicSpec {
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly partitions: number;
  /** Invitation facts (created, opened), partitioned like responses; none: not created. */
  readonly invitationTopic?: string;
  /** The events topic (src/events), with as many partitions as the responses topic. */
  readonly eventsTopic?: string;
  readonly eventsDeadLetterTopic?: string;
}

/** Creates the responses and dead-letter topics when missing; existing topics are left as they are. */
export async function ensureTopics(admin: Admin, spec: TopicSpec): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = [
    { topic: spec.topic, numPartitions: spec.partitions },
    { topic: spec.deadLetterTopic, numPartitions: 1 },
    ...(spec.invitationTopic === undefined
      ? []
      : [{ topic: spec.invitationTopic, numPartitions: spec.partitions }]),
    ...(spec.eventsTopic ? [{ topic: spec.eventsTopic, numPartitions: spec.partitions }] : []),
    ...(spec.eventsDeadLetterTopic
      ? [{ topic: spec.eventsDeadLetterTopic, numPartitions: 1 }]
      : []),
  ].filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    topics: missing.map((t) => ({
      ...t,
      // Responses are kept forever in ClickHouse; Kafka keeps two weeks for replays. Events are
      // kept as long: far beyond the 24 h retry window, so a deliverer down for days catches up.
      configEntries: [{ name: 'retention.ms', value: String(14 * 24 * 3600 * 1000) }],
    })),
    waitForLeaders: true,
  });
}

/** Records on `topic` that `groupId` has not committed yet (all of them before its first commit). */
export async function uncommitted(admin: Admin, topic: string, groupId: string): Promise<number> {
  const [high, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]));
  return high.reduce((n, p) => n + Number(p.high) - Math.max(0, done.get(p.partition) ?? 0), 0);
}
