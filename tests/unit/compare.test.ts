import { describe, expect, it } from 'vitest';
import { compareNps } from '../../src/domain/compare.js';
import type { Tally } from '../../src/domain/nps.js';
import { mulberry32 } from '../support/mulberry32.js';

// An independent computation from the raw answers: no shares, no summarize, no stdlib CDF.

function answers(t: Tally): number[] {
  return [
    ...Array<number>(t.promoters).fill(1),
    ...Array<number>(t.passives).fill(0),
    ...Array<number>(t.detractors).fill(-1),
  ];
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function populationVariance(xs: number[]): number {
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length;
}

/** P(|Z| > |z|) for a standard normal Z, by Simpson integration of its density over [0, |z|]. */
function twoSidedP(z: number): number {
  const steps = 2000;
  const h = Math.abs(z) / steps;
  const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  let sum = phi(0) + phi(Math.abs(z));
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * phi(i * h);
  return 1 - 2 * ((sum * h) / 3);
}

function expected(a: Tally, b: Tally) {
  const xa = answers(a);
  const xb = answers(b);
  const difference = 100 * (mean(xb) - mean(xa));
  const se =
    100 * Math.sqrt(populationVariance(xa) / xa.length + populationVariance(xb) / xb.length);
  const z = difference / se;
  return { difference, margin: 1.96 * se, z, p: twoSidedP(z) };
}

const tally = (promoters: number, passives: number, detractors: number): Tally => ({
  promoters,
  passives,
  detractors,
});

describe('comparing two NPS', () => {
  it.each([
    [tally(180, 120, 100), tally(150, 130, 120)],
    [tally(50, 30, 20), tally(45, 25, 30)],
    [tally(300, 150, 50), tally(30, 12, 18)],
    [tally(12, 3, 85), tally(9, 40, 11)],
    [tally(1000, 1, 0), tally(998, 0, 3)],
    [tally(0, 50, 0), tally(20, 10, 20)],
  ])('matches a computation from the raw answers: %o vs %o', (a, b) => {
    const got = compareNps(a, b, { minResponses: 30 });
    const want = expected(a, b);
    expect(got.difference).toBeCloseTo(want.difference, 1);
    expect(got.differenceMarginOfError).toBeCloseTo(want.margin, 1);
    expect(got.z).toBeCloseTo(want.z, 10);
    expect(got.pValue).toBeCloseTo(want.p, 8);
    expect(got.significant).toBe(want.p < 0.05);
    expect(got.a.nps).toBeCloseTo(100 * mean(answers(a)), 1);
    expect(got.b.responses).toBe(answers(b).length);
  });

  it('a 12.5-point drop between two samples of 400 is significant, with its margin', () => {
    // a: NPS 20, variance 0.7 - 0.2^2 = 0.66; b: NPS 7.5, variance 0.675 - 0.075^2 = 0.669375.
    // se = 100 * sqrt((0.66 + 0.669375) / 400) = 5.7649..; margin 11.299..; z = -2.1683..; p = 0.0301
    const got = compareNps(tally(180, 120, 100), tally(150, 130, 120), { minResponses: 100 });
    expect(got).toMatchObject({
      difference: -12.5,
      differenceMarginOfError: 11.3,
      significant: true,
    });
    expect(got.z).toBeCloseTo(-2.1683, 4);
    expect(got.pValue).toBeCloseTo(0.0301, 4);
  });

  it('takes the difference of the unrounded scores, not of the displayed ones', () => {
    // NPS 33.33.. and 66.66..: the displayed 66.7 - 33.3 would give 33.4.
    const got = compareNps(tally(1, 2, 0), tally(2, 1, 0), { minResponses: 0 });
    expect([got.a.nps, got.b.nps, got.difference]).toEqual([33.3, 66.7, 33.3]);
  });

  it('has nothing to compare when either side is empty', () => {
    const empty = tally(0, 0, 0);
    const some = tally(50, 30, 20);
    for (const [a, b] of [
      [empty, some],
      [some, empty],
      [empty, empty],
    ] as const) {
      expect(compareNps(a, b, { minResponses: 0 })).toMatchObject({
        difference: null,
        differenceMarginOfError: null,
        z: null,
        pValue: null,
        significant: false,
      });
    }
    expect(compareNps(empty, some, { minResponses: 30 }).a).toEqual({
      ...empty,
      responses: 0,
      nps: null,
      marginOfError: null,
      lowSample: true,
    });
  });

  it('flags a side below minResponses and never calls its difference significant', () => {
    // 29 of 29 detractors against 100 promoters: p is astronomically small, but a is a low sample.
    const got = compareNps(tally(0, 0, 29), tally(100, 0, 0), { minResponses: 30 });
    expect(got.a.lowSample).toBe(true);
    expect(got.b.lowSample).toBe(false);
    expect(got.pValue).toBeLessThan(1e-20);
    expect(got.significant).toBe(false);
    // Exactly minResponses answers is enough.
    const enough = compareNps(tally(0, 0, 30), tally(100, 0, 0), { minResponses: 30 });
    expect(enough.a.lowSample).toBe(false);
    expect(enough.significant).toBe(true);
    // And the mixed case: a real difference, one side small.
    const small = compareNps(tally(180, 120, 100), tally(5, 5, 10), { minResponses: 30 });
    expect(small.pValue).toBeLessThan(0.05);
    expect([small.b.lowSample, small.significant]).toEqual([true, false]);
  });

  describe('when both sides are unanimous and the standard error is 0', () => {
    it('both all promoters: no difference, p = 1, not significant', () => {
      expect(compareNps(tally(80, 0, 0), tally(120, 0, 0), { minResponses: 30 })).toMatchObject({
        difference: 0,
        differenceMarginOfError: 0,
        z: null,
        pValue: 1,
        significant: false,
      });
    });

    it('2 promoters against 2 detractors is not enough to call it (Fisher p = 1/3)', () => {
      const got = compareNps(tally(2, 0, 0), tally(0, 0, 2), { minResponses: 0 });
      expect(got).toMatchObject({ difference: -200, z: null, significant: false });
      expect(got.pValue).toBeCloseTo(fisherTwoSided(2, 2), 12);
      expect(got.pValue).toBeCloseTo(1 / 3, 12);
    });

    it.each([
      [3, 5],
      [5, 3],
      [4, 4],
      [40, 40],
      [30, 200],
    ])('%i passives against %i promoters: p is the exact Fisher p', (nA, nB) => {
      const got = compareNps(tally(0, nA, 0), tally(nB, 0, 0), { minResponses: 0 });
      const p = fisherTwoSided(nA, nB);
      expect(got.z).toBeNull();
      expect(got.difference).toBe(100);
      expect(got.pValue).toBeCloseTo(p, 12);
      expect((got.pValue ?? Number.NaN) / p).toBeCloseTo(1, 9);
      expect(got.significant).toBe(p < 0.05);
    });
  });

  it('rejects a negative or non-finite minResponses', () => {
    for (const minResponses of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => compareNps(tally(1, 0, 0), tally(1, 0, 0), { minResponses })).toThrow(
        RangeError,
      );
  });

  describe('under no change, about 5 % of comparisons are significant', () => {
    it.each([
      { p: 0.45, d: 0.25, nA: 400, nB: 400, seed: 1 },
      { p: 0.7, d: 0.1, nA: 150, nB: 600, seed: 2 },
      { p: 0.2, d: 0.55, nA: 1000, nB: 250, seed: 3 },
    ])('promoters $p, detractors $d, $nA vs $nB answers', ({ p, d, nA, nB, seed }) => {
      const random = mulberry32(seed);
      const sample = (n: number): Tally => {
        let promoters = 0;
        let detractors = 0;
        for (let i = 0; i < n; i++) {
          const u = random();
          if (u < p) promoters++;
          else if (u < p + d) detractors++;
        }
        return tally(promoters, n - promoters - detractors, detractors);
      };
      const pairs = 2000;
      let significant = 0;
      for (let i = 0; i < pairs; i++)
        if (compareNps(sample(nA), sample(nB), { minResponses: 30 }).significant) significant++;
      const rate = significant / pairs;
      console.log(
        `false-positive rate (p=${p}, d=${d}, ${nA} vs ${nB}): ${(100 * rate).toFixed(2)} %`,
      );
      expect(rate).toBeGreaterThanOrEqual(0.035);
      expect(rate).toBeLessThanOrEqual(0.065);
    });
  });
});

/**
 * Two-sided Fisher exact p for side A (nA answers, all category X) against side B (nB answers, all
 * category Y): the sum of the hypergeometric probabilities of every table with the same margins that
 * is at most as likely as the observed one.
 */
function fisherTwoSided(nA: number, nB: number): number {
  const logFactorial = (n: number) => {
    let s = 0;
    for (let i = 2; i <= n; i++) s += Math.log(i);
    return s;
  };
  const logChoose = (n: number, k: number) =>
    logFactorial(n) - logFactorial(k) - logFactorial(n - k);
  // a = answers of side A in category X; the column totals are nA (X) and nB (Y).
  const prob = (a: number) =>
    Math.exp(logChoose(nA, a) + logChoose(nB, nA - a) - logChoose(nA + nB, nA));
  const observed = prob(nA);
  let p = 0;
  for (let a = Math.max(0, nA - nB); a <= nA; a++)
    if (prob(a) <= observed * (1 + 1e-9)) p += prob(a);
  return p;
}
