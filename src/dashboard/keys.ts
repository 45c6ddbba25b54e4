import { createHash, randomBytes } from 'node:crypto';
import type { Scope } from '../config/config.js';

/**
 * A new API key: 24 random bytes, base64url, behind a `nps_` prefix that secret scanners and
 * people can recognise. No `:` or `,`, so it fits an NPS_API_KEYS entry as it is.
 */
export function newApiKey(): string {
  return `nps_${randomBytes(24).toString('base64url')}`;
}

/** The NPS_API_KEYS entry of a key by its SHA-256 only, so the secret never sits in the env. */
export function apiKeysEntry(
  key: string,
  scope: Scope,
  surveys: readonly string[] | null = null,
): string {
  const digest = createHash('sha256').update(key).digest('hex');
  return `sha256:${digest}:${scope}${surveys && surveys.length > 0 ? `:${surveys.join('|')}` : ''}`;
}
