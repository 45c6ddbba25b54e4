import { DEFAULT_MIN_RESPONSES, Z_95, oneDecimal, summarize } from './nps.js';
import type { NpsSummary, Tally } from './nps.js';

/**
 * Response rates of invitations. A rate is a binomial proportion (responded of invited), so its
 * 95 % interval is the Wilson score interval: unlike the normal approximation p ± 1.96·sqrt(pq/n)
 * it stays inside 0..1 and keeps its coverage for small n and for rates near 0 or 1, which is where
 * campaign response rates (often 5-20 %) and small segments live.
 */

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/**
 * Wilson score interval of k successes in n trials at quantile z (default 1.96, 95 %), as
 * fractions 0..1: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). Null when n = 0.
 */
export function wilsonInterval(k: number, n: number, z = Z_95): Interval | null {
  if (n <= 0) return null;
  if (k < 0 || k > n) throw new RangeError(`k = ${k} is not within 0..n = ${n}`);
  const p = k / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  // At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); floating point would miss it by an ulp.
  return {
    low: k === 0 ? 0 : Math.max(0, (centre - spread) / denominator),
    high: k === n ? 1 : Math.min(1, (centre + spread) / denominator),
  };
}

/** Invitations of a survey by stage: each invitation counts once per stage it reached. */
export interface FunnelCounts {
  readonly invited: number;
  readonly opened: number;
  readonly responded: number;
  readonly commented: number;
}

export interface ResponseRate {
  /** responded / invited, percent, one decimal; null without invitations. */
  readonly rate: number | null;
  /** Wilson 95 % interval in percent, one decimal each; null without invitations. */
  readonly low: number | null;
  readonly high: number | null;
  /** Half the interval's width, percentage points, one decimal; null without invitations. */
  readonly marginOfError: number | null;
  /** The sample size the rate is read from: the invitations. */
  readonly invited: number;
  /** Fewer invitations than NPS_MIN_RESPONSES: treat the rate as noise. */
  readonly lowSample: boolean;
}

export function responseRate(
  counts: FunnelCounts,
  minResponses = DEFAULT_MIN_RESPONSES,
): ResponseRate {
  const { invited, responded } = counts;
  const interval = wilsonInterval(responded, invited);
  const lowSample = invited < minResponses;
  if (interval === null) {
    return { rate: null, low: null, high: null, marginOfError: null, invited, lowSample };
  }
  return {
    rate: oneDecimal((100 * responded) / invited),
    low: oneDecimal(100 * interval.low),
    high: oneDecimal(100 * interval.high),
    marginOfError: oneDecimal((100 * (interval.high - interval.low)) / 2),
    invited,
    lowSample,
  };
}

/** The funnel answer: counts per stage, the response rate, and the NPS of those who answered. */
export function funnelSummary(
  counts: FunnelCounts,
  responders: Tally,
  minResponses = DEFAULT_MIN_RESPONSES,
): { stages: FunnelCounts; responseRate: ResponseRate; responders: NpsSummary } {
  return {
    stages: counts,
    responseRate: responseRate(counts, minResponses),
    responders: summarize(responders, minResponses),
  };
}
