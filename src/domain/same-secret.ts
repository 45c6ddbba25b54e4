import { timingSafeEqual } from 'node:crypto';

/**
 * Whether a given secret (a signature, a token's MAC, a key's digest) equals the expected one, in
 * time that does not depend on where they differ. Strings are compared as their UTF-8 bytes. A
 * length difference answers at once: the length of a MAC or digest is public.
 */
export function sameSecret(expected: Buffer | string, given: Buffer | string): boolean {
  const a = typeof expected === 'string' ? Buffer.from(expected) : expected;
  const b = typeof given === 'string' ? Buffer.from(given) : given;
  return a.length === b.length && timingSafeEqual(a, b);
}
