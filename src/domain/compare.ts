import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { Z_95, answerVariance, oneDecimal, summarize } from './nps.js';
import type { NpsSummary, Tally } from './nps.js';

export interface CompareOptions {
  /**
   * A side with fewer responses than this is flagged `lowSample`, and a comparison involving such
   * a side is never `significant`: the normal approximation behind the test is poor for small
   * samples, and a handful of answers should not light up a dashboard.
   */
  readonly minResponses: number;
}

/** One side of a comparison; `lowSample` is `responses < minResponses`. */
export type ComparedSide = NpsSummary;

export interface NpsComparison {
  readonly a: ComparedSide;
  readonly b: ComparedSide;
  /** b.nps - a.nps in NPS points, from unrounded shares, one decimal; null if a side is empty. */
  readonly difference: number | null;
  /** Half-width of the 95 % confidence interval of `difference`, one decimal; null if a side is empty. */
  readonly differenceMarginOfError: number | null;
  /** difference / standard error, unrounded; null if a side is empty or both sides are unanimous. */
  readonly z: number | null;
  /** Two-sided p-value for "the two NPS are equal", unrounded; null if a side is empty. */
  readonly pValue: number | null;
  /** pValue < 0.05 and neither side is lowSample. */
  readonly significant: boolean;
}

const ALPHA = 0.05;

/**
 * Compares the NPS of two independent samples, `a` (e.g. last month) and `b` (this month).
 *
 * Each answer is scored +1/0/-1, so an NPS is 100 times a sample mean, and the difference of two
 * independent NPS has the standard error se = 100 * sqrt(varA / nA + varB / nB), with the same
 * per-answer variance p + d - (p - d)^2 that {@link summarize} uses for a single margin of error.
 * The test is the two-sided Wald z-test z = difference / se against the standard normal, and the
 * margin of the difference is 1.96 * se. Significance is decided on unrounded values, so a
 * displayed "3.9 ± 3.9" can fall on either side.
 * The z-test is a large-sample approximation: in simulation it calls about 5 % of comparisons
 * of equal NPS significant with 150 to 1,000 answers a side (tests/unit/compare.test.ts), but it is
 * too eager with a few dozen answers or nearly unanimous sides, which is what minResponses is for.
 *
 * When both sides are unanimous (every answer in each side the same category, e.g. all promoters)
 * the estimated se is 0 and the z-test has nothing to say: z is null, and so as not to claim
 * certainty from, say, 2 answers against 2, the p-value is then Fisher's exact test of "side and
 * category are independent". Its two-sided value has a closed form for two unanimous sides: 1 if
 * both chose the same category, else 1 / C(nA + nB, nA), doubled when nA = nB. The margin of the
 * difference is reported as 0 then, like {@link summarize} reports a margin of 0 for one unanimous
 * sample; the lowSample flag is what protects small samples.
 *
 * With either side empty there is nothing to compare: difference, margin, z and pValue are null
 * and significant is false.
 */
export function compareNps(a: Tally, b: Tally, options: CompareOptions): NpsComparison {
  const { minResponses } = options;
  if (!Number.isFinite(minResponses) || minResponses < 0)
    throw new RangeError(`minResponses must be a finite number >= 0, got ${minResponses}`);
  const sideA = side(a, minResponses);
  const sideB = side(b, minResponses);
  const none = { difference: null, differenceMarginOfError: null, z: null, pValue: null };
  if (sideA.responses === 0 || sideB.responses === 0)
    return { a: sideA, b: sideB, ...none, significant: false };

  const [pA, dA] = shares(a, sideA.responses);
  const [pB, dB] = shares(b, sideB.responses);
  const difference = 100 * (pB - dB - (pA - dA));
  const se =
    100 *
    Math.sqrt(answerVariance(pA, dA) / sideA.responses + answerVariance(pB, dB) / sideB.responses);
  const z = se > 0 ? difference / se : null;
  const pValue =
    z === null
      ? fisherUnanimous(a, b, sideA.responses, sideB.responses)
      : 2 * normalCdf(-Math.abs(z), 0, 1);
  return {
    a: sideA,
    b: sideB,
    difference: oneDecimal(difference),
    differenceMarginOfError: oneDecimal(Z_95 * se),
    z,
    pValue,
    significant: pValue < ALPHA && !sideA.lowSample && !sideB.lowSample,
  };
}

function side(tally: Tally, minResponses: number): ComparedSide {
  return summarize(tally, minResponses);
}

function shares(tally: Tally, responses: number): [p: number, d: number] {
  return [tally.promoters / responses, tally.detractors / responses];
}

function category(tally: Tally): 'promoters' | 'passives' | 'detractors' {
  if (tally.promoters > 0) return 'promoters';
  return tally.passives > 0 ? 'passives' : 'detractors';
}

/**
 * Fisher's exact two-sided p-value for two non-empty unanimous sides of sizes nA and nB (see
 * {@link compareNps}). Every other table with the same margins is at least as likely as the
 * observed one, except the mirrored table when nA = nB.
 */
function fisherUnanimous(a: Tally, b: Tally, nA: number, nB: number): number {
  if (category(a) === category(b)) return 1;
  // log C(nA + nB, k), stopping once exp(-logC) underflows anyway.
  const k = Math.min(nA, nB);
  let logC = 0;
  for (let i = 1; i <= k && logC < 750; i++) logC += Math.log((nA + nB - k + i) / i);
  return Math.min(1, (nA === nB ? 2 : 1) * Math.exp(-logC));
}
