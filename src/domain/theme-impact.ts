import type { Tally } from './nps.js';
import { Z_95, oneDecimal, summarize } from './nps.js';

export interface ThemeImpact {
  /** NPS of the responses whose comment mentions the theme; null when none does. */
  readonly npsWith: number | null;
  /** NPS of all the other responses (no comment, or a comment without the theme). */
  readonly npsWithout: number | null;
  /**
   * Overall NPS minus `npsWithout`: the points the theme costs (negative) or earns (positive).
   * Null when every response, or none, mentions it.
   */
  readonly impact: number | null;
  /** Half-width of the 95 % confidence interval of `impact`, in points. */
  readonly impactMarginOfError: number | null;
}

/**
 * What one theme does to the score. With w the share of responses that mention the theme, the
 * overall NPS is w * npsWith + (1 - w) * npsWithout, so the impact, overall - npsWithout, is
 * w * (npsWith - npsWithout): a theme weighs by how often it comes up and by how differently those
 * customers score.
 *
 * The margin comes from the delta method on the six cells (mentions or not) x (promoter, passive,
 * detractor), which are one multinomial sample of n responses: Var = (sum pi g^2 - (sum pi g)^2) / n,
 * g the gradient of the impact in the cell shares.
 */
export function themeImpact(all: Tally, withTheme: Tally): ThemeImpact {
  const without: Tally = {
    promoters: all.promoters - withTheme.promoters,
    passives: all.passives - withTheme.passives,
    detractors: all.detractors - withTheme.detractors,
  };
  const n = all.promoters + all.passives + all.detractors;
  const k = withTheme.promoters + withTheme.passives + withTheme.detractors;
  const npsWith = summarize(withTheme).nps;
  const npsWithout = summarize(without).nps;
  // Mentioned by none: the rest is everyone, so the theme moves nothing. By all: no rest to compare.
  if (n > 0 && k === 0) return { npsWith, npsWithout, impact: 0, impactMarginOfError: 0 };
  if (k === n) return { npsWith, npsWithout, impact: null, impactMarginOfError: null };
  const share = (x: number) => x / n;
  const w = k / n;
  const overall = share(all.promoters - all.detractors);
  const rest = share(without.promoters - without.detractors) / (1 - w);
  // Gradient of overall - rest in the cell shares (with-P, with-A, with-D, without-P, -A, -D).
  const m = rest / (1 - w);
  const cells: [number, number][] = [
    [share(withTheme.promoters), 1 - m],
    [share(withTheme.passives), -m],
    [share(withTheme.detractors), -1 - m],
    [share(without.promoters), 1 - 1 / (1 - w)],
    [share(without.passives), 0],
    [share(without.detractors), -1 + 1 / (1 - w)],
  ];
  let mean = 0;
  let square = 0;
  for (const [pi, g] of cells) {
    mean += pi * g;
    square += pi * g * g;
  }
  const variance = Math.max(0, square - mean * mean) / n;
  return {
    npsWith,
    npsWithout,
    impact: oneDecimal(100 * (overall - rest)),
    impactMarginOfError: oneDecimal(100 * Z_95 * Math.sqrt(variance)),
  };
}
