import { answerVariance, oneDecimal } from './nps.js';

/** One classified answer: +1 promoter, 0 passive, -1 detractor. */
export type ScoreValue = -1 | 0 | 1;

/**
 * Tuning of {@link observe}. The defaults come from the simulations in
 * tests/unit/shift-simulation.test.ts; change them together with those tests.
 */
export interface ShiftOptions {
  /**
   * Answers the baseline learns from before the detector may alarm, at the start and again after
   * every alarm. Shorter makes the first baseline noisier and false alarms likelier.
   * @default 2000
   */
  readonly warmUp: number;
  /**
   * How many answers the baseline remembers: it is the plain mean of the answers up to this many,
   * then an exponentially weighted mean with weight 1 / baselineMemory, so a drift much slower than
   * this is followed instead of flagged.
   * @default 20000
   */
  readonly baselineMemory: number;
  /**
   * CUSUM reference value k, in baseline standard deviations: half the shift the detector is tuned
   * for. 0.08 is half of 0.16 standard deviations, 13 NPS points at NPS 20.
   * @default 0.08
   */
  readonly reference: number;
  /**
   * CUSUM alarm threshold h, in baseline standard deviations: higher means fewer false alarms and
   * slower detection.
   * @default 55
   */
  readonly threshold: number;
  /**
   * The baseline stops learning while either CUSUM statistic is above this fraction of the
   * threshold, so a change that is building up is not learnt as the new normal.
   * @default 0.25
   */
  readonly freezeAt: number;
  /**
   * Floor of the per-answer variance. Near NPS +-100 the variance is near 0 and every rare answer
   * of the other kind would be a huge z-score; the floor makes the detector cautious there instead.
   * @default 0.1
   */
  readonly minVariance: number;
}

export const DEFAULT_SHIFT_OPTIONS: ShiftOptions = {
  warmUp: 2000,
  baselineMemory: 20000,
  reference: 0.08,
  threshold: 55,
  freezeAt: 0.25,
  minVariance: 0.1,
};

/** One direction of the CUSUM. */
export interface CusumSide {
  /** The statistic, >= 0, in baseline standard deviations. */
  readonly score: number;
  /** Answers since the statistic was last 0: the estimated change point. */
  readonly responses: number;
  /** Sum of the answers' values (+1/0/-1) over those answers. */
  readonly sum: number;
}

/** Everything the detector remembers; plain JSON, a few hundred bytes. */
export interface ShiftState {
  readonly version: 1;
  /** Answers the baseline has learnt from since the last (re)start. */
  readonly baselineResponses: number;
  /** Baseline share of promoters, 0..1. */
  readonly promoterShare: number;
  /** Baseline share of detractors, 0..1. */
  readonly detractorShare: number;
  readonly up: CusumSide;
  readonly down: CusumSide;
}

export interface Shift {
  readonly direction: 'up' | 'down';
  /** NPS of the baseline, points, one decimal. */
  readonly before: number;
  /** NPS of the answers since the estimated change point, points, one decimal. */
  readonly after: number;
  /** Answers since the estimated change point, this one included. */
  readonly responsesSinceChange: number;
  readonly detectedAtMs: number;
}

export interface Observation {
  readonly state: ShiftState;
  readonly shift: Shift | null;
}

const ZERO: CusumSide = { score: 0, responses: 0, sum: 0 };

export function initialShiftState(): ShiftState {
  return {
    version: 1,
    baselineResponses: 0,
    promoterShare: 0,
    detractorShare: 0,
    up: ZERO,
    down: ZERO,
  };
}

/**
 * Live detection of a lasting change in the NPS level of one stream of answers.
 *
 * In plain words: the detector first learns what "normal" looks like from the first `warmUp`
 * answers (the baseline), then keeps two running tallies of evidence, one for "NPS went up" and one
 * for "NPS went down". Each answer adds a little evidence when it is better (or worse) than the
 * baseline and takes some away otherwise; a tally never goes below zero. Random ups and downs keep
 * the tallies low; a real change makes one of them climb steadily until it crosses the threshold,
 * and the detector reports the shift once, then starts learning a new baseline from scratch.
 *
 * Method: a two-sided CUSUM (Page 1954) on the answer's value x (+1/0/-1) standardized by the
 * baseline, z = (x - mu) / sigma, with S+ = max(0, S+ + z - k) and S- = max(0, S- - z - k),
 * alarming when either exceeds h. mu = p - d and sigma^2 = p + d - (p - d)^2 (the same variance as
 * the margin of error, floored at `minVariance`) come from the baseline shares p and d, a running
 * mean over the first `baselineMemory` answers and an exponentially weighted average after that, so
 * that a very slow drift is followed rather than flagged. The baseline does not learn while either
 * statistic is above `freezeAt * h`, so a change being accumulated is not absorbed into the
 * baseline. The last time a statistic was 0 estimates the change point; `after` is the NPS of the
 * answers since then.
 *
 * After an alarm everything restarts: the next `warmUp` answers only teach the new baseline, so
 * the same shift is not reported again, but a second change inside that window becomes part of the
 * new baseline instead of being reported (also after a false alarm).
 *
 * The answers are assumed independent, with a level that is constant between changes. The
 * defaults are tuned by simulation (tests/unit/shift-simulation.test.ts) at NPS 20, 1,000 answers a
 * day: about 0.3 false alarms per 90,000 answers (a mean run of about 300,000 answers between false
 * alarms), and a 15-point change is found after a median of about 430 answers, 800 at the 90th
 * percentile. Because k and h are in standard deviations the false-alarm rate is about the same at
 * other levels: 0.3 to 0.5 per 90,000 answers between NPS -90 and 90 in the same simulation, up to
 * 0.7 around NPS 93 where rare detractors make the z-scores lopsided, and fewer where the variance
 * floor applies. The detection delay in answers for a given change in points is shorter where the
 * answers vary less (high or low NPS) and longer where they vary more.
 *
 * `observe` is a pure function of (state, value, atMs): the state can be stored as JSON between
 * calls and replaying the same answers from the same stored state gives the same result.
 */
export function observe(
  state: ShiftState,
  value: ScoreValue,
  atMs: number,
  options: ShiftOptions = DEFAULT_SHIFT_OPTIONS,
): Observation {
  // Callers decode values from messages; the type alone does not keep a 2 or a NaN out.
  const checked: number = value;
  if (checked !== 1 && checked !== 0 && checked !== -1)
    throw new RangeError(`value must be -1, 0 or 1, got ${String(checked)}`);
  if (state.baselineResponses < options.warmUp)
    return { state: learn(state, value, options), shift: null };

  const p = state.promoterShare;
  const d = state.detractorShare;
  const mean = p - d;
  const z = (value - mean) / Math.sqrt(Math.max(options.minVariance, answerVariance(p, d)));
  const up = step(state.up, z - options.reference, value);
  const down = step(state.down, -z - options.reference, value);

  const alarm =
    up.score > options.threshold ? 'up' : down.score > options.threshold ? 'down' : null;
  if (alarm !== null) {
    const side = alarm === 'up' ? up : down;
    return {
      state: initialShiftState(),
      shift: {
        direction: alarm,
        before: oneDecimal(100 * mean),
        after: oneDecimal((100 * side.sum) / side.responses),
        responsesSinceChange: side.responses,
        detectedAtMs: atMs,
      },
    };
  }
  // Decided on the statistics before this answer, so the decision does not depend on the answer.
  const frozen = Math.max(state.up.score, state.down.score) > options.freezeAt * options.threshold;
  const next: ShiftState = {
    version: 1,
    baselineResponses: state.baselineResponses,
    promoterShare: p,
    detractorShare: d,
    up,
    down,
  };
  return { state: frozen ? next : learn(next, value, options), shift: null };
}

function step(side: CusumSide, increment: number, value: ScoreValue): CusumSide {
  const score = side.score + increment;
  return score > 0 ? { score, responses: side.responses + 1, sum: side.sum + value } : ZERO;
}

function learn(state: ShiftState, value: ScoreValue, options: ShiftOptions): ShiftState {
  const baselineResponses = state.baselineResponses + 1;
  const weight = Math.max(1 / baselineResponses, 1 / options.baselineMemory);
  return {
    version: 1,
    baselineResponses,
    promoterShare: state.promoterShare + weight * ((value === 1 ? 1 : 0) - state.promoterShare),
    detractorShare: state.detractorShare + weight * ((value === -1 ? 1 : 0) - state.detractorShare),
    up: state.up,
    down: state.down,
  };
}
