/** Counts of one window or bucket. */
export interface Tally {
  readonly promoters: number;
  readonly passives: number;
  readonly detractors: number;
}

export interface NpsSummary extends Tally {
  readonly responses: number;
  /** Percent promoters minus percent detractors, -100..100, one decimal; null without responses. */
  readonly nps: number | null;
  /** Half-width of the 95 % confidence interval in NPS points, one decimal; null without responses. */
  readonly marginOfError: number | null;
  /** Fewer responses than the minimum to read the score by (NPS_MIN_RESPONSES): treat it as noise. */
  readonly lowSample: boolean;
}

/** Below this many responses a score is flagged `lowSample` unless configured otherwise. */
export const DEFAULT_MIN_RESPONSES = 30;

/** Two-sided 95 % quantile of the standard normal distribution. */
export const Z_95 = 1.96;

/** Rounds to one decimal for display. */
export function oneDecimal(x: number): number {
  // Rounds half away from zero, and never yields -0.
  const rounded = (Math.sign(x) * Math.round(Math.abs(x) * 10)) / 10;
  return rounded === 0 ? 0 : rounded;
}

/**
 * Variance of a single answer scored +1 (promoter), 0 (passive) or -1 (detractor), given the
 * promoter share `p` and detractor share `d`: E[x^2] - E[x]^2 = p + d - (p - d)^2. Never negative.
 */
export function answerVariance(p: number, d: number): number {
  return Math.max(0, p + d - (p - d) ** 2);
}

/**
 * NPS with its sample size and 95 % margin of error. The variance of a single answer scored +1
 * (promoter), 0 (passive) or -1 (detractor) is p + d - (p - d)^2, so the margin is
 * 100 * 1.96 * sqrt((p + d - (p - d)^2) / n).
 */
export function summarize(tally: Tally, minResponses = DEFAULT_MIN_RESPONSES): NpsSummary {
  const responses = tally.promoters + tally.passives + tally.detractors;
  const lowSample = responses < minResponses;
  if (responses === 0) return { ...tally, responses, nps: null, marginOfError: null, lowSample };
  const p = tally.promoters / responses;
  const d = tally.detractors / responses;
  const variance = answerVariance(p, d);
  return {
    ...tally,
    responses,
    nps: oneDecimal(100 * (p - d)),
    marginOfError: oneDecimal(100 * Z_95 * Math.sqrt(variance / responses)),
    lowSample,
  };
}

export const EMPTY_TALLY: Tally = { promoters: 0, passives: 0, detractors: 0 };

export function addTallies(a: Tally, b: Tally): Tally {
  return {
    promoters: a.promoters + b.promoters,
    passives: a.passives + b.passives,
    detractors: a.detractors + b.detractors,
  };
}
