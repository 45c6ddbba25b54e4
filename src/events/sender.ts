import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { slackMessage } from './slack.js';
import { checkUrl, guardedLookup, systemResolver, UrlRefused } from './ssrf.js';
import type { Resolver, UrlPolicy } from './ssrf.js';
import type { Subscription } from './subscriptions.js';
import type { NpsEvent } from './types.js';

/** What one attempt came to. */
export interface SendResult {
  readonly ok: boolean;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The receiver's Retry-After, in ms from now, when it sent one. */
  readonly retryAfterMs: number | null;
  /** Why it failed, safe to log and show (never the receiver's body). */
  readonly error: string;
  readonly latencyMs: number;
}

/** The webhook-id of an event sent to a subscription: the same on every attempt and replay. */
export function webhookId(eventId: string, subscriptionId: string): string {
  const hash = createHash('sha256').update(eventId).update('\u0000').update(subscriptionId);
  return `msg_${hash.digest('base64url').slice(0, 27)}`;
}

/** The body a subscription gets for an event: `{type, timestamp, data}`, or a Slack message. */
export function webhookBody(
  event: NpsEvent,
  format: Subscription['format'],
  publicBaseUrl: string,
): string {
  if (format === 'slack') return JSON.stringify(slackMessage(event, publicBaseUrl));
  return JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | null {
  if (header === undefined || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export interface SenderOptions {
  readonly policy: UrlPolicy;
  readonly timeoutMs: number;
  readonly publicBaseUrl: string;
  readonly resolve?: Resolver;
  readonly now?: () => number;
  /** Kept-alive connections per subscription; without it every attempt opens its own. */
  readonly connections?: Connections;
}

/**
 * Kept-alive connections, one pool per subscription and URL. A new connection to a receiver
 * costs a handshake and, once closed, holds a local port in TIME_WAIT for a minute: at a few
 * hundred detractors a second to one receiver that runs the machine out of ports. Reusing
 * connections is as safe as opening them: every new connection goes through the checking
 * `lookup` (see guardedLookup), and an open one stays with the address that was checked when it
 * was made. Idle connections are closed after 4 s, before the 5 s that servers commonly keep
 * them (Node's default), so an attempt rarely meets a connection the receiver just closed.
 */
export class Connections {
  readonly #pools = new Map<string, { readonly url: string; readonly agent: HttpAgent }>();
  readonly #maxSockets: number;

  constructor(maxSocketsPerSubscription: number) {
    this.#maxSockets = maxSocketsPerSubscription;
  }

  agentFor(subscription: Subscription, url: URL): HttpAgent {
    const pool = this.#pools.get(subscription.subscriptionId);
    if (pool?.url === subscription.url) return pool.agent;
    pool?.agent.destroy();
    const options = { keepAlive: true, maxSockets: this.#maxSockets, timeout: 4000 };
    const agent = url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
    this.#pools.set(subscription.subscriptionId, { url: subscription.url, agent });
    return agent;
  }

  /** Closes the connections of subscriptions that are not in `keep` (deleted ones). */
  retain(keep: ReadonlySet<string>): void {
    for (const [id, pool] of this.#pools) {
      if (keep.has(id)) continue;
      pool.agent.destroy();
      this.#pools.delete(id);
    }
  }

  close(): void {
    this.retain(new Set());
  }
}

/**
 * Sends one event to one subscription, signed to the Standard Webhooks specification (with a
 * fresh timestamp per attempt, as receivers refuse old ones). The URL is checked again and the
 * connection goes only to checked addresses; redirects are not followed (a 3xx is a failure);
 * the receiver has `timeoutMs` for the whole answer. With `connections`, a connection that
 * carried an answer in time is used again; one that timed out is destroyed.
 */
export async function send(
  event: NpsEvent,
  subscription: Subscription,
  options: SenderOptions,
): Promise<SendResult> {
  const now = options.now ?? Date.now;
  const began = performance.now();
  const elapsed = () => performance.now() - began;
  const resolve = options.resolve ?? systemResolver;
  let url: URL;
  try {
    url = await checkUrl(subscription.url, options.policy, resolve);
  } catch (error) {
    const why = error instanceof UrlRefused ? error.message : 'URL check failed';
    return {
      ok: false,
      status: 0,
      retryAfterMs: null,
      error: `refused: ${why}`,
      latencyMs: elapsed(),
    };
  }
  const body = webhookBody(event, subscription.format, options.publicBaseUrl);
  const id = webhookId(event.id, subscription.subscriptionId);
  const at = new Date(now());
  const signature = new Webhook(subscription.secret).sign(id, at, body);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'nps-pipeline-webhooks',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((done) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done({ ...result, latencyMs: elapsed() });
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers,
        lookup: guardedLookup(options.policy, resolve),
        agent: options.connections?.agentFor(subscription, url) ?? false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = res.headers['retry-after'];
        // The body is drained, never kept: it is the receiver's, and may be large.
        res.resume();
        res.on('end', () => {
          const ok = status >= 200 && status < 300;
          finish({
            ok,
            status,
            retryAfterMs: retryAfterMs(retryAfter, now()),
            error: ok
              ? ''
              : status >= 300 && status < 400
                ? `HTTP ${status}: redirects are not followed`
                : `HTTP ${status}`,
          });
        });
        res.on('error', () => {
          finish({ ok: false, status, retryAfterMs: null, error: 'answer cut off' });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({
        ok: false,
        status: 0,
        retryAfterMs: null,
        error: `no answer within ${options.timeoutMs} ms`,
      });
    }, options.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const why =
        error instanceof UrlRefused ? `refused: ${error.message}` : (error.code ?? error.name);
      finish({ ok: false, status: 0, retryAfterMs: null, error: why });
    });
    req.end(body);
  });
}
