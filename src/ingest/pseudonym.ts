import { createHmac } from 'node:crypto';

/**
 * A respondent id from a phone number or an email: keyed HMAC-SHA256 of the normalized value, so
 * the same person gets the same id across channels and surveys while the raw value never leaves
 * ingest. Without a key nothing is kept: null.
 */
export function pseudonymize(key: string | undefined, contact: string): string | null {
  if (key === undefined) return null;
  const normalized = contact.includes('@')
    ? contact.trim().toLowerCase()
    : contact.replace(/[^\d+]/g, '');
  return `r_${createHmac('sha256', key).update(normalized).digest('base64url').slice(0, 32)}`;
}
