import type { Redis } from 'ioredis';
import { luaScript } from '../storage/lua-script.js';
import { RedisKeys } from '../storage/redis-keys.js';
import type { NpsEvent } from './types.js';

/** One (event, subscription) delivery waiting for its next attempt. */
export interface Job {
  readonly subscriptionId: string;
  readonly event: NpsEvent;
  /** Attempts made so far. */
  readonly attempts: number;
  /** Epoch ms the job was first scheduled: the retry window counts from here. */
  readonly firstAt: number;
}

// The scripts, with KEYS, ARGV and reply documented in their headers.
const SCHEDULE = luaScript('webhook-schedule');
const CLAIM = luaScript('webhook-claim');
const RETRY = luaScript('webhook-retry');

type QueueRedis = Redis & {
  npsWebhookRetry(
    due: string,
    jobs: string,
    member: string,
    job: string,
    at: number,
  ): Promise<number>;
  npsWebhookSchedule(due: string, jobs: string, ...args: (string | number)[]): Promise<number>;
  npsWebhookClaim(
    due: string,
    jobs: string,
    now: number,
    limit: number,
    lease: number,
  ): Promise<(string | null)[]>;
};

/** The member naming a job: one per (subscription, event), the same on every deliverer. */
export function jobMember(subscriptionId: string, eventId: string): string {
  return `${subscriptionId}|${eventId}`;
}

/**
 * The webhook retry schedule in Redis, the one owner of its keys: a sorted set of jobs by due
 * time, the jobs themselves in a hash, and a marker per delivered job (kept 15 days, past the
 * events topic's retention, so a replay of the topic is folded). Redis persists it (AOF) across
 * kill -9; a Redis loss loses the jobs waiting for a retry and the markers, which rewinding the
 * deliver group over the lost span restores (receivers fold the repeats by webhook-id).
 */
export class WebhookQueue {
  readonly #redis: QueueRedis;
  readonly #due: string;
  readonly #jobs: string;
  readonly #done: string;
  readonly #version: string;

  constructor(redis: Redis, prefix: string) {
    redis.defineCommand('npsWebhookSchedule', { numberOfKeys: 2, lua: SCHEDULE });
    redis.defineCommand('npsWebhookClaim', { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand('npsWebhookRetry', { numberOfKeys: 2, lua: RETRY });
    this.#redis = redis as QueueRedis;
    const keys = new RedisKeys(prefix);
    this.#due = keys.webhookDue;
    this.#jobs = keys.webhookJobs;
    this.#done = keys.webhookDonePrefix;
    this.#version = keys.subscriptionsVersion;
  }

  /** Queues the jobs due at `dueAt`; resolves to how many were new. */
  async schedule(jobs: readonly Job[], dueAt: number): Promise<number> {
    if (jobs.length === 0) return 0;
    const args: (string | number)[] = [this.#done];
    for (const job of jobs) {
      args.push(jobMember(job.subscriptionId, job.event.id), JSON.stringify(job), dueAt);
    }
    return this.#redis.npsWebhookSchedule(this.#due, this.#jobs, ...args);
  }

  /** Leases up to `limit` due jobs until `leaseUntil`. */
  async claim(now: number, limit: number, leaseUntil: number): Promise<Job[]> {
    const flat = await this.#redis.npsWebhookClaim(this.#due, this.#jobs, now, limit, leaseUntil);
    const jobs: Job[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const json = flat[i + 1];
      const member = flat[i];
      if (json) jobs.push(JSON.parse(json) as Job);
      else if (member) await this.#redis.zrem(this.#due, member);
    }
    return jobs;
  }

  /** Marks jobs delivered and forgets them, in one transaction. */
  async delivered(jobs: readonly Job[]): Promise<void> {
    if (jobs.length === 0) return;
    const members = jobs.map((job) => jobMember(job.subscriptionId, job.event.id));
    const transaction = this.#redis.multi();
    for (const member of members) {
      transaction.set(`${this.#done}${member}`, '1', 'EX', 15 * 86_400);
    }
    await transaction
      .hdel(this.#jobs, ...members)
      .zrem(this.#due, ...members)
      .exec();
  }

  /** Puts a failed job back with one more attempt, due at `dueAt`. */
  async retry(job: Job, dueAt: number): Promise<void> {
    const member = jobMember(job.subscriptionId, job.event.id);
    const next: Job = { ...job, attempts: job.attempts + 1 };
    await this.#redis.npsWebhookRetry(this.#due, this.#jobs, member, JSON.stringify(next), dueAt);
  }

  /** Moves a leased job's next attempt to `dueAt` without counting an attempt. */
  async postpone(job: Job, dueAt: number): Promise<void> {
    await this.#redis.zadd(this.#due, 'XX', dueAt, jobMember(job.subscriptionId, job.event.id));
  }

  /** Forgets a job without delivering it (dead-lettered, withheld, subscription deleted). */
  async drop(job: Job): Promise<void> {
    const member = jobMember(job.subscriptionId, job.event.id);
    await this.#redis.multi().hdel(this.#jobs, member).zrem(this.#due, member).exec();
  }

  /**
   * Says that subscriptions changed (created or deleted): deliverers read them again before they
   * match the next events, without reading ClickHouse for every batch.
   */
  async subscriptionsChanged(): Promise<void> {
    await this.#redis.incr(this.#version);
  }

  /** The count of subscription changes so far; compared, never interpreted. */
  async subscriptionsVersion(): Promise<string> {
    return (await this.#redis.get(this.#version)) ?? '0';
  }

  /** Jobs waiting (for their first attempt or a retry). */
  async depth(): Promise<number> {
    return this.#redis.zcard(this.#due);
  }

  /** Removes the queued jobs about a respondent; resolves to how many. */
  async erase(respondentId: string): Promise<number> {
    let cursor = '0';
    let removed = 0;
    do {
      const [next, entries] = await this.#redis.hscan(this.#jobs, cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i < entries.length; i += 2) {
        const member = entries[i];
        const json = entries[i + 1];
        if (!member || !json) continue;
        const job = JSON.parse(json) as Job;
        if (job.event.respondentId === respondentId) {
          await this.#redis.multi().hdel(this.#jobs, member).zrem(this.#due, member).exec();
          removed++;
        }
      }
    } while (cursor !== '0');
    return removed;
  }
}
