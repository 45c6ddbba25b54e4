import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeFact } from '../domain/invitation.js';
import { describeError } from '../errors.js';
import type { InvitationStore, StoredFact } from '../storage/invitations.js';
import type { LiveWindows } from '../storage/live-windows.js';

export interface InvitationSinkDeps {
  readonly kafka: Kafka;
  readonly store: InvitationStore;
  /** Read only: who is erased up to when (the marks DELETE /v1/respondents leaves). */
  readonly live: LiveWindows;
  readonly topic: string;
  /** The processors' group; the sink's own group is named after it. */
  readonly groupId: string;
  readonly log?: (message: string) => void;
  readonly onCrash?: (error: unknown) => void;
}

/** The consumer group of the invitation sink of processors in `groupId`. */
export function invitationGroup(groupId: string): string {
  return `${groupId}.invitations`;
}

/**
 * Writes invitation facts from Kafka to ClickHouse, in the process role (ingest may have no
 * ClickHouse). Exactly once without a fence: a fact delivered again (a replay after kill -9, a
 * retried invitation) has the same (invitation, stage) key, and the funnel counts distinct
 * invitations. An erased respondent's facts are never written again: facts at or before their
 * erasure cut are dropped, and when an erasure ran while a batch was being written (the erasure
 * counter moved) the batch's respondents are purged again, as the response processor does.
 */
export async function startInvitationSink(
  deps: InvitationSinkDeps,
): Promise<{ close(): Promise<void> }> {
  const log = deps.log ?? (() => undefined);
  const consumer: Consumer = deps.kafka.consumer({
    groupId: invitationGroup(deps.groupId),
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: deps.topic, fromBeginning: true });

  async function write(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const rows: StoredFact[] = [];
    let skipped = 0;
    for (const message of batch.messages) {
      const fact = decodeFact(message.value);
      if (fact) rows.push({ fact, partition: batch.partition, offset: message.offset });
      else skipped++;
    }
    // Only ingest writes this topic; anything else on it is not an invitation and is left out.
    if (skipped > 0) log(`invitation sink skipped ${skipped} record(s) that are not facts`);
    const erasuresBefore = await deps.live.erasureCount();
    const respondents = [...new Set(rows.flatMap((r) => r.fact.respondentId ?? []))];
    const cuts =
      respondents.length > 0
        ? await deps.live.erasedUpTo(respondents)
        : new Map<string, number | null>();
    const kept = rows.filter(({ fact }) => {
      const cut = fact.respondentId === null ? null : cuts.get(fact.respondentId);
      return cut === null || cut === undefined || fact.createdAt > cut;
    });
    await deps.store.insert(kept);
    if (respondents.length > 0 && (await deps.live.erasureCount()) !== erasuresBefore) {
      for (const [respondentId, cut] of await deps.live.erasedUpTo(respondents)) {
        if (cut !== null) await deps.store.erase(respondentId, cut);
      }
    }
  }

  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      if (payload.batch.messages.length === 0) return;
      // ClickHouse or Redis away: retry with backoff until written, heartbeating meanwhile;
      // give up only when stopping or the partition went to another member (left uncommitted).
      for (let attempt = 1; ; attempt++) {
        try {
          await write(payload);
          break;
        } catch (error) {
          if (attempt === 1 || attempt % 10 === 0) {
            log(`invitation sink write failed (attempt ${attempt}): ${describeError(error)}`);
          }
          if (!payload.isRunning() || payload.isStale()) return;
          await sleep(Math.min(250 * 2 ** (attempt - 1), 15_000));
          try {
            await payload.heartbeat();
          } catch {
            return;
          }
        }
      }
      payload.resolveOffset(payload.batch.lastOffset());
      await payload.commitOffsetsIfNecessary();
    },
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) deps.onCrash?.(payload.error);
  });

  let closing: Promise<void> | undefined;
  return {
    close: () => (closing ??= consumer.disconnect().catch(() => undefined)),
  };
}
