/**
 * Live windows: event-time sliding windows ending now, at minute resolution, read from minute,
 * hour and day buckets so that any window costs a bounded number of reads (for 30 days at most
 * 59 + 23 + 30 + 23 + 59 buckets) whatever the volume.
 */

export const WINDOWS = { '15m': 15, '1h': 60, '24h': 1440, '7d': 10_080, '30d': 43_200 } as const;
export type WindowName = keyof typeof WINDOWS;
export const LONGEST_WINDOW_MINUTES = WINDOWS['30d'];

export type Level = 'm' | 'h' | 'd';
const LEVEL_MINUTES: Record<Level, number> = { m: 1, h: 60, d: 1440 };

export interface Bucket {
  readonly level: Level;
  /** Index of the bucket: minutes, hours or days since the epoch (UTC). */
  readonly index: number;
}

export function isWindowName(value: unknown): value is WindowName {
  return typeof value === 'string' && Object.hasOwn(WINDOWS, value);
}

/** The three buckets an event at `epochMs` counts in. */
export function bucketsOf(epochMs: number): Bucket[] {
  const minute = Math.floor(epochMs / 60_000);
  return (['m', 'h', 'd'] as const).map((level) => ({
    level,
    index: Math.floor(minute / LEVEL_MINUTES[level]),
  }));
}

/** When a bucket stops being needed by any window: its end plus the longest window. */
export function bucketExpiry(bucket: Bucket): number {
  const endMinute = (bucket.index + 1) * LEVEL_MINUTES[bucket.level];
  return (endMinute + LONGEST_WINDOW_MINUTES) * 60_000;
}

/** The window ending with the current minute (inclusive): [from, to) in epoch ms. */
export function windowRange(name: WindowName, nowMs: number): { from: number; to: number } {
  const toMinute = Math.floor(nowMs / 60_000) + 1;
  return { from: (toMinute - WINDOWS[name]) * 60_000, to: toMinute * 60_000 };
}

/** Covers [fromMs, toMs) (minute-aligned) with the fewest aligned buckets. */
export function coveringBuckets(fromMs: number, toMs: number): Bucket[] {
  const end = Math.floor(toMs / 60_000);
  let t = Math.floor(fromMs / 60_000);
  const out: Bucket[] = [];
  while (t < end) {
    const level: Level =
      t % 1440 === 0 && t + 1440 <= end ? 'd' : t % 60 === 0 && t + 60 <= end ? 'h' : 'm';
    out.push({ level, index: t / LEVEL_MINUTES[level] });
    t += LEVEL_MINUTES[level];
  }
  return out;
}
