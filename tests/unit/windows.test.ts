import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  WINDOWS,
  bucketExpiry,
  bucketsOf,
  coveringBuckets,
  isWindowName,
  windowRange,
} from '../../src/domain/windows.js';
import type { Bucket } from '../../src/domain/windows.js';

const MINUTE = 60_000;
const SPAN = { m: 1, h: 60, d: 1440 } as const;
// 2026-11-22T10:15:30.250Z, written out so nothing here depends on the code under test.
const NOW = Date.UTC(2026, 10, 22, 10, 15, 30, 250);

/** The minutes [start, end) a bucket spans, since the epoch. */
const minutesOf = (b: Bucket) => [b.index * SPAN[b.level], (b.index + 1) * SPAN[b.level]];

describe('live windows', () => {
  it('an event counts in its minute, hour and day bucket (UTC)', () => {
    const minute = Math.floor(NOW / MINUTE);
    expect(bucketsOf(NOW)).toEqual([
      { level: 'm', index: minute },
      { level: 'h', index: Math.floor(NOW / 3_600_000) },
      { level: 'd', index: Math.floor(NOW / 86_400_000) },
    ]);
    // The last millisecond of a day is still that day; the next one starts the next day.
    const midnight = Date.UTC(2026, 10, 23);
    expect(bucketsOf(midnight - 1)[2]?.index).toBe(midnight / 86_400_000 - 1);
    expect(bucketsOf(midnight)[2]?.index).toBe(midnight / 86_400_000);
  });

  it('a window ends with the current minute, inclusive, and spans its length in minutes', () => {
    const endOfMinute = Date.UTC(2026, 10, 22, 10, 16);
    expect(windowRange('15m', NOW)).toEqual({ from: endOfMinute - 15 * MINUTE, to: endOfMinute });
    expect(windowRange('24h', NOW)).toEqual({ from: endOfMinute - 86_400_000, to: endOfMinute });
    expect(windowRange('30d', NOW).to - windowRange('30d', NOW).from).toBe(30 * 86_400_000);
  });

  it('knows exactly the five window names', () => {
    expect(Object.keys(WINDOWS).filter(isWindowName)).toEqual(['15m', '1h', '24h', '7d', '30d']);
    for (const name of ['1d', '', 'toString', '__proto__', 15, null]) {
      expect(isWindowName(name)).toBe(false);
    }
  });

  it('a bucket expires once the longest window (30 days) can no longer reach its end', () => {
    const day = Math.floor(NOW / 86_400_000);
    expect(bucketExpiry({ level: 'd', index: day })).toBe((day + 1 + 30) * 86_400_000);
    expect(bucketExpiry({ level: 'm', index: 10 })).toBe(11 * MINUTE + 30 * 86_400_000);
  });

  it('covering buckets tile a range exactly, without gaps or overlaps, aligned to their size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 * 24 * 40 }),
        fc.integer({ min: 0, max: 60 * 24 * 35 }),
        (startMinute, length) => {
          const from = (29_000_000 + startMinute) * MINUTE;
          const to = from + length * MINUTE;
          let at = from / MINUTE;
          for (const bucket of coveringBuckets(from, to)) {
            const [start, end] = minutesOf(bucket);
            expect(start).toBe(at);
            expect(Number.isInteger(bucket.index)).toBe(true);
            at = end ?? Number.NaN;
          }
          expect(at).toBe(to / MINUTE);
        },
      ),
    );
  });

  it('the 30-day window is read from at most 194 buckets, whatever the minute', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1440 * 7 }), (offset) => {
        const { from, to } = windowRange('30d', NOW + offset * MINUTE);
        expect(coveringBuckets(from, to).length).toBeLessThanOrEqual(59 + 23 + 30 + 23 + 59);
      }),
    );
  });
});
