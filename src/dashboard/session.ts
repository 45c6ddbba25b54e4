import { createHmac } from 'node:crypto';
import { sameSecret } from '../domain/same-secret.js';
import type { Request } from 'express';
import type { ApiKey } from '../config/config.js';

export const SESSION_COOKIE = 'nps_session';

/**
 * Dashboard sessions: a signed, expiring cookie that names an API key by its SHA-256, never the
 * key itself. Nothing is stored on the server; every request looks the digest up in the keys the
 * process has now, so removing a key from NPS_API_KEYS ends its sessions at the next restart, and
 * changing the secret ends them all. Sign-out clears the cookie in the browser; a copy of the cookie
 * taken before stays valid until it expires (NPS_SESSION_HOURS).
 *
 * Value: `<sha256 hex>.<expiry, epoch seconds>.<HMAC-SHA256 base64url>`.
 */
export class Sessions {
  readonly #secret: () => Buffer;
  readonly #apiKeys: readonly ApiKey[];
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** `secret` is asked for on first use, so a process nobody signs in to never makes one. */
  constructor(
    secret: () => Buffer,
    apiKeys: readonly ApiKey[],
    ttlMs: number,
    now: () => number = Date.now,
  ) {
    let cached: Buffer | undefined;
    this.#secret = () => (cached ??= secret());
    this.#apiKeys = apiKeys;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  #sign(payload: string): Buffer {
    return createHmac('sha256', this.#secret()).update(`nps-session-v1.${payload}`).digest();
  }

  /** A new session for `key`: the cookie value and when it expires. */
  issue(key: ApiKey): { value: string; expiresAt: number } {
    const expiresAt = Math.floor((this.#now() + this.#ttlMs) / 1000) * 1000;
    const payload = `${key.sha256.toString('hex')}.${expiresAt / 1000}`;
    return { value: `${payload}.${this.#sign(payload).toString('base64url')}`, expiresAt };
  }

  /** The key a valid, unexpired session cookie of this request names, if it is still configured. */
  keyOf(req: Request): { key: ApiKey; expiresAt: number } | undefined {
    const value = cookie(req, SESSION_COOKIE);
    const match =
      value === undefined ? null : /^([0-9a-f]{64})\.(\d{1,12})\.([\w-]{43})$/.exec(value);
    if (!match?.[1] || !match[2] || !match[3]) return undefined;
    const given = Buffer.from(match[3], 'base64url');
    const expected = this.#sign(`${match[1]}.${match[2]}`);
    if (!sameSecret(expected, given)) return undefined;
    const expiresAt = Number(match[2]) * 1000;
    if (expiresAt <= this.#now()) return undefined;
    const digest = Buffer.from(match[1], 'hex');
    const key = this.#apiKeys.find((k) => sameSecret(k.sha256, digest));
    return key && { key, expiresAt };
  }
}

/** One cookie of the request's Cookie header, undecoded (ours are plain ASCII). */
function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value: HttpOnly, SameSite=Strict, Secure over https; empty and expired to clear. */
export function sessionCookie(
  value: string,
  options: { secure: boolean; maxAgeSeconds: number },
): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
