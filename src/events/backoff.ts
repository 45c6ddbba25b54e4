/**
 * The delay before retry `attempt` (1 for the first retry): `base` doubling each time up to an
 * hour, times a jitter in [0.5, 1) so that the retries of many events failing together spread
 * out. A receiver that says when to come back (Retry-After) is taken at its word, though never
 * sooner than `base`, so a `Retry-After: 0` cannot make us hammer it.
 */
export function retryDelay(
  attempt: number,
  base: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== null) return Math.max(retryAfterMs, base);
  const exponential = Math.min(base * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return exponential * (0.5 + random() / 2);
}
