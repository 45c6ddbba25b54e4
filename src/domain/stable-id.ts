import { createHash } from 'node:crypto';

/**
 * A short id derived from its parts (SHA-256, base64url, 24 characters): the same parts always
 * give the same id, so whatever is derived again after a replay names the same thing.
 */
export function stableId(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('base64url').slice(0, 24);
}
