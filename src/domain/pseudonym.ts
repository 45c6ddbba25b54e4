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

/** Looks like an email address or a phone number, rather than an opaque id of the sender's. */
export function isContact(value: string): boolean {
  return value.includes('@') || /^\+?[\d\s().-]{6,}$/.test(value);
}

/**
 * The respondent id to keep for what a client sent: emails and phone numbers become the keyed
 * HMAC (or nothing without a key); opaque ids are the client's own pseudonyms and stay as given.
 */
export function respondentIdFrom(key: string | undefined, given: string | null): string | null {
  if (given === null) return null;
  return isContact(given) ? pseudonymize(key, given) : given;
}
