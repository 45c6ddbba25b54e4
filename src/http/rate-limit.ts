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

  /** Seconds until `client` has a token again, 0 when it has one now; takes nothing. */
  peek(client: string): number {
    const bucket = this.#buckets.get(client);
    if (!bucket) return 0;
    const tokens = Math.min(
      this.#burst,
      bucket.tokens + ((this.#now() - bucket.at) / 1000) * this.#perSecond,
    );
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.#perSecond));
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

/**
 * Limits, per client IP (req.ip, which honours NPS_TRUST_PROXY), the requests that fail
 * authentication: a wrong or missing API key, a forged provider signature, an invalid score link.
 * Traffic that proves where it comes from is not limited by address: a provider's webhooks arrive
 * in bursts from a few addresses, and Twilio does not retry a webhook answered 429, so the reply
 * would be lost (JSON ingest stays limited per API key). A failure spends one of the address's
 * tokens (see {@link authFailureCharge}); an address without tokens is refused before its body is
 * read, so guessing keys or signatures stays slow and cheap to refuse.
 */
export function limitFailuresByIp(limiter: RateLimiter): RequestHandler {
  return (req, res, next) => {
    const client = req.ip ?? 'unknown';
    const wait = limiter.peek(client);
    if (wait > 0) {
      next(tooManyRequests(wait, 'client address'));
      return;
    }
    res.locals.chargeFailure = () => limiter.take(client);
    next();
  };
}

/** Statuses that mean the request did not authenticate: a key, a signature or a link token. */
const AUTH_FAILURES = new Set([401, 403, 404]);

/**
 * For an answer about to be sent: when the request failed authentication on a route limited by
 * {@link limitFailuresByIp}, spends a token of its address and, if there was none, the 429 that
 * replaces the answer.
 */
export function authFailureCharge(
  locals: Record<string, unknown>,
  status: number,
): HttpProblem | null {
  const charge = locals.chargeFailure as (() => number) | undefined;
  if (!charge || !AUTH_FAILURES.has(status)) return null;
  const wait = charge();
  return wait > 0 ? tooManyRequests(wait, 'client address') : null;
}
