import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.js';
import { GroupCommit } from '../group-commit.js';
import { retryDelay } from './backoff.js';
import { webhookMetrics } from './metrics.js';
import { Connections, send, webhookId } from './sender.js';
import type { SenderOptions } from './sender.js';
import type { DeliveryAttempt, Subscription, SubscriptionStore } from './subscriptions.js';
import { EVENT_TYPES } from './types.js';
import type { NpsEvent } from './types.js';
import type { Job, WebhookQueue } from './webhook-queue.js';

export interface DelivererDeps {
  readonly kafka: Kafka;
  readonly queue: WebhookQueue;
  readonly subscriptions: SubscriptionStore;
  /** Erasure marks (LiveWindows.erasedUpTo): an erased respondent's events are withheld. */
  readonly erasedUpTo: (respondentIds: readonly string[]) => Promise<Map<string, number | null>>;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly sender: SenderOptions;
  /** How long a failing delivery is retried before it is dead-lettered, ms. */
  readonly retryMs: number;
  /** First retry delay, ms (doubling, with jitter). */
  readonly backoffMs: number;
  readonly registry: Registry;
  /**
   * How often the subscriptions are read again, so a deletion stops deliveries soon.
   * @default 2000
   */
  readonly reloadMs?: number;
  /**
   * Attempts in flight per subscription: a slow receiver holds only its own.
   * @default 64
   */
  readonly perSubscription?: number;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
  readonly onCrash?: (error: unknown) => void;
}

export interface DelivererHandle {
  close(): Promise<void>;
}

const CLAIM_LIMIT = 200;
const POLL_MS = 200;
const GATHER_MS = 5;

/**
 * The `deliver` role. A consumer of the events topic turns each event into one job per matching
 * subscription, queues the jobs durably (WebhookQueue, Redis) and only then commits: nothing
 * consumed is lost by a crash, and what is consumed twice is one job. A dispatcher takes due jobs
 * and sends them, each subscription with a few attempts in flight at most, so a slow or dead
 * receiver delays only its own deliveries and never the consumer or the processor. A failure is
 * retried with exponential backoff and jitter (or the receiver's Retry-After) until the retry
 * window ends, then the job goes to the dead-letter topic. Every attempt is logged.
 */
export async function startDeliverer(deps: DelivererDeps): Promise<DelivererHandle> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);
  const metrics = webhookMetrics(deps.registry);
  const perSubscription = deps.perSubscription ?? 64;
  const connections = new Connections(perSubscription);
  const sender = { ...deps.sender, connections };
  const consumer: Consumer = deps.kafka.consumer({
    groupId: deps.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  const dlq: Producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), dlq.connect()]);
  await consumer.subscribe({ topic: deps.topic, fromBeginning: true });

  // The subscriptions as last read, and the change count read before that: the API counts every
  // change in Redis before it answers, so a batch that sees another count reads them again before
  // it matches its events, and every subscription gets the events accepted after its 201.
  let subscriptions = new Map<string, Subscription>();
  let loadedVersion: string | undefined;
  let loading: Promise<void> | undefined;
  const reload = () =>
    (loading ??= (async () => {
      try {
        const version = await deps.queue.subscriptionsVersion();
        const list = await deps.subscriptions.list((id) => {
          log(`subscription ${id}: its secret does not open with this NPS_SESSION_SECRET; skipped`);
        });
        subscriptions = new Map(list.map((s) => [s.subscriptionId, s]));
        loadedVersion = version;
        connections.retain(new Set(subscriptions.keys()));
      } finally {
        loading = undefined;
      }
    })());
  await reload();
  // Subscriptions at least as new as the change count in Redis now: a reload already running
  // may have read an older count, so read again until the loaded list has caught up.
  const current = async () => {
    const version = await deps.queue.subscriptionsVersion();
    for (let i = 0; i < 3 && Number(loadedVersion ?? -1) < Number(version); i++) {
      await reload();
    }
  };

  const state = { running: true, kicked: false };
  // A kick says that a slot came free or jobs came in. One that comes while a dispatch runs is
  // remembered, not lost: the dispatcher would otherwise sleep a whole poll with free slots, and
  // under load, when every attempt ends during some dispatch, deliveries would go at one pool a
  // poll (one pool per 200 ms) however fast the receiver is.
  let wake: (() => void) | undefined;
  const kick = () => {
    state.kicked = true;
    wake?.();
  };
  const takeKick = () => {
    const kicked = state.kicked;
    state.kicked = false;
    return kicked;
  };

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const events: NpsEvent[] = [];
    for (const message of batch.messages) {
      const event = parseEvent(message.value);
      if (event) events.push(event);
      else log(`events topic: skipped a record that is not an event at offset ${message.offset}`);
    }
    await current();
    const at = now();
    const jobs: Job[] = [];
    for (const event of events) {
      for (const s of subscriptions.values()) {
        if (matches(s, event))
          jobs.push({ subscriptionId: s.subscriptionId, event, attempts: 0, firstAt: at });
      }
    }
    await deps.queue.schedule(jobs, at);
    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary();
    await payload.heartbeat();
    if (jobs.length > 0) kick();
  }

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) deps.onCrash?.(payload.error);
  });
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommitInterval: 1000,
    partitionsConsumedConcurrently: 3,
    eachBatch: handleBatch,
  });

  // Attempts in flight, per subscription.
  const inFlight = new Map<string, number>();
  // Delivered marks go to Redis together: one transaction for every attempt that ended while
  // the previous one was on its way. A crash before the mark sends the job again, as before.
  const deliveredMarks = new GroupCommit<Job>((jobs) => deps.queue.delivered(jobs));
  let attemptLog: DeliveryAttempt[] = [];
  const tasks = new Set<Promise<void>>();

  async function attempt(job: Job, subscription: Subscription): Promise<void> {
    const result = await send(job.event, subscription, sender);
    const at = now();
    const attempts = job.attempts + 1;
    const entry = {
      subscriptionId: job.subscriptionId,
      eventId: job.event.id,
      webhookId: webhookId(job.event.id, job.subscriptionId),
      eventType: job.event.type,
      attempt: attempts,
      status: result.status,
      latencyMs: result.latencyMs,
      error: result.error,
      respondentId: job.event.respondentId,
      attemptedAt: at,
    };
    if (result.ok) {
      await deliveredMarks.add(job);
      metrics.deliveries.inc({ outcome: 'delivered' });
      metrics.latency.observe(Math.max(0, at - Date.parse(job.event.timestamp)) / 1000);
      attemptLog.push({ ...entry, outcome: 'delivered' });
      return;
    }
    const delay = retryDelay(attempts, deps.backoffMs, result.retryAfterMs);
    if (at + delay - job.firstAt > deps.retryMs) {
      await dlq.send({
        topic: deps.deadLetterTopic,
        acks: -1,
        messages: [
          {
            key: job.event.surveyId,
            value: JSON.stringify({
              subscriptionId: job.subscriptionId,
              attempts,
              error: result.error,
              event: job.event,
            }),
            headers: { 'nps-event-id': job.event.id, 'nps-subscription-id': job.subscriptionId },
          },
        ],
      });
      await deps.queue.drop(job);
      metrics.deliveries.inc({ outcome: 'dead-lettered' });
      attemptLog.push({ ...entry, outcome: 'dead-lettered' });
      return;
    }
    await deps.queue.retry(job, at + delay);
    metrics.deliveries.inc({ outcome: 'failed' });
    attemptLog.push({ ...entry, outcome: 'failed' });
  }

  async function dispatch(): Promise<number> {
    const at = now();
    const lease = at + deps.sender.timeoutMs + 5000;
    // No more than there are free delivery slots: a claimed job that finds its subscription busy
    // must be put back, one Redis call each, which under load costs more than the deliveries.
    let running = 0;
    for (const n of inFlight.values()) running += n;
    const free = perSubscription * Math.max(1, subscriptions.size) - running;
    if (free <= 0) return 0;
    const jobs = await deps.queue.claim(at, Math.min(CLAIM_LIMIT, free), lease);
    if (jobs.length === 0) return 0;
    // Another deliverer may have queued jobs for a subscription this one has not loaded yet:
    // read them again before a job of an unknown subscription is taken for a deleted one's.
    if (jobs.some((j) => !subscriptions.has(j.subscriptionId))) await current();
    const respondents = [
      ...new Set(jobs.flatMap((j) => (j.event.respondentId ? [j.event.respondentId] : []))),
    ];
    const erased = await deps.erasedUpTo(respondents);
    for (const job of jobs) {
      const subscription = subscriptions.get(job.subscriptionId);
      const cut = job.event.respondentId ? erased.get(job.event.respondentId) : null;
      if (!subscription) {
        // Deleted: its jobs go with it.
        await deps.queue.drop(job);
        continue;
      }
      if (cut != null && Date.parse(job.event.timestamp) <= cut) {
        await deps.queue.drop(job);
        metrics.deliveries.inc({ outcome: 'withheld' });
        continue;
      }
      const busy = inFlight.get(job.subscriptionId) ?? 0;
      if (busy >= perSubscription) {
        // Its receiver is slow: the job waits its turn in the queue, not here.
        await deps.queue.postpone(job, at + 250);
        continue;
      }
      inFlight.set(job.subscriptionId, busy + 1);
      const task = attempt(job, subscription)
        .catch((error: unknown) => {
          // The job stays leased and is taken again when the lease ends.
          log(`webhook delivery bookkeeping failed: ${describeError(error)}`);
        })
        .finally(() => {
          inFlight.set(job.subscriptionId, (inFlight.get(job.subscriptionId) ?? 1) - 1);
          tasks.delete(task);
          kick();
        });
      tasks.add(task);
    }
    return jobs.length;
  }

  const dispatching = (async () => {
    while (state.running) {
      let claimed = 0;
      takeKick();
      try {
        claimed = await dispatch();
      } catch (error) {
        log(`webhook dispatch failed, retrying: ${describeError(error)}`);
        await sleep(1000);
      }
      if (claimed >= CLAIM_LIMIT) continue;
      // Claimed up to the free slots: the next dispatch waits for a slot (kick) or the poll.
      if (!takeKick()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      // A few ms for the attempts ending about now to free their slots too: one claim (a Redis
      // round trip) for many jobs rather than one each.
      await sleep(GATHER_MS);
    }
  })();

  async function flushLog(): Promise<void> {
    if (attemptLog.length === 0) return;
    const entries = attemptLog;
    attemptLog = [];
    // An erasure may have come while these waited: theirs are not written.
    const ids = [...new Set(entries.flatMap((e) => (e.respondentId ? [e.respondentId] : [])))];
    const erased = await deps.erasedUpTo(ids);
    const kept = entries.filter((e) => !(e.respondentId && erased.get(e.respondentId) != null));
    try {
      await deps.subscriptions.logAttempts(kept);
    } catch (error) {
      log(`webhook delivery log write failed: ${describeError(error)}`);
    }
  }

  const timers = [
    setInterval(() => {
      reload().catch((error: unknown) => {
        log(`webhook subscriptions reload failed: ${describeError(error)}`);
      });
    }, deps.reloadMs ?? 2000),
    setInterval(() => {
      flushLog().catch(() => undefined);
      deps.queue.depth().then(
        (n) => {
          metrics.queueDepth.set(n);
        },
        () => undefined,
      );
    }, 1000),
  ];

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        state.running = false;
        for (const timer of timers) clearInterval(timer);
        kick();
        await consumer.disconnect().catch(() => undefined);
        await dispatching;
        await Promise.allSettled([...tasks]);
        await flushLog().catch(() => undefined);
        connections.close();
        await dlq.disconnect().catch(() => undefined);
      })()),
  };
}

function parseEvent(value: Buffer | null): NpsEvent | null {
  if (!value) return null;
  try {
    const event = JSON.parse(value.toString('utf8')) as Partial<NpsEvent>;
    if (
      typeof event.id !== 'string' ||
      typeof event.timestamp !== 'string' ||
      typeof event.surveyId !== 'string' ||
      !(EVENT_TYPES as readonly string[]).includes(String(event.type))
    ) {
      return null;
    }
    return event as NpsEvent;
  } catch {
    return null;
  }
}

/** Whether a subscription takes an event: its type, its survey, and not from before it existed. */
export function matches(s: Subscription, event: NpsEvent): boolean {
  return (
    s.events.includes(event.type) &&
    (s.surveyId === null || s.surveyId === event.surveyId) &&
    Date.parse(event.timestamp) >= Date.parse(s.createdAt)
  );
}
