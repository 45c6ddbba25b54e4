import type { RequestHandler } from 'express';
import { HttpProblem } from './problem.js';

/**
 * Token buckets per client (an API key's digest, or an IP address), in this process's memory: each
 * ingest process limits on its own, so N processes behind a balancer admit up to N times the rate.
 * Idle buckets are dropped, so memory follows the number of active clients.
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #sweptAt = 0;

  constructor(perSecond: number, burst: number, now: () => number = Date.now) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#now = now;
  }

  /** Takes a token for `client`; returns 0 when allowed, else the seconds until the next token. */
  take(client: string): number {
    const now = this.#now();
    this.#sweep(now);
    const bucket = this.#buckets.get(client) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(
      this.#burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond,
    );
    bucket.at = now;
    this.#buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perSecond));
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    const full = (this.#burst / this.#perSecond) * 1000;
    for (const [client, bucket] of this.#buckets) {
      if (now - bucket.at > full) this.#buckets.delete(client);
    }
  }
}

export function tooManyRequests(retryAfterSeconds: number, who: string): HttpProblem {
  return new HttpProblem(
    429,
    'Too Many Requests',
    `Rate limit for this ${who} reached; retry later`,
    {},
    {
      'Retry-After': String(retryAfterSeconds),
    },
  );
}

/** Limits requests per client IP (req.ip, which honours NPS_TRUST_PROXY). */
export function limitByIp(limiter: RateLimiter): RequestHandler {
  return (req, _res, next) => {
    const wait = limiter.take(req.ip ?? 'unknown');
    if (wait > 0) next(tooManyRequests(wait, 'client address'));
    else next();
  };
}
