import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { responseRate, wilsonInterval } from '../../src/domain/response-rate.js';
import { validateInvitationInput } from '../../src/domain/invitation.js';

/**
 * The Wilson bounds by their definition rather than their closed form: the p on each side of k/n
 * where the score statistic |k/n - p| / sqrt(p(1-p)/n) is 1.96, found by bisection.
 */
function byBisection(k: number, n: number): { low: number; high: number } {
  const p0 = k / n;
  const excess = (p: number) => Math.abs(p0 - p) - 1.96 * Math.sqrt((p * (1 - p)) / n);
  const solve = (inside: number, outside: number) => {
    let a = inside;
    let b = outside;
    for (let i = 0; i < 200; i++) {
      const m = (a + b) / 2;
      if (excess(m) > 0) b = m;
      else a = m;
    }
    return (a + b) / 2;
  };
  return { low: k === 0 ? 0 : solve(p0, 0), high: k === n ? 1 : solve(p0, 1) };
}

describe('response rate', () => {
  it('the Wilson interval matches the published values of Newcombe (1998), table I', () => {
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [k, n, low, high] of cases) {
      const interval = wilsonInterval(k, n);
      expect(interval?.low).toBeCloseTo(low, 3);
      expect(interval?.high).toBeCloseTo(high, 3);
    }
  });

  it('the Wilson interval is where the score test is at 1.96, for any k of n', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5000 })
          .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        ([k, n]) => {
          const interval = wilsonInterval(k, n);
          const expected = byBisection(k, n);
          expect(interval?.low).toBeCloseTo(expected.low, 9);
          expect(interval?.high).toBeCloseTo(expected.high, 9);
          expect(interval?.low ?? -1).toBeLessThanOrEqual(k / n);
          expect(interval?.high ?? 2).toBeGreaterThanOrEqual(k / n);
        },
      ),
    );
  });

  it('a rate carries its sample size and lowSample, and none without invitations', () => {
    expect(responseRate({ invited: 0, opened: 0, responded: 0, commented: 0 })).toEqual({
      rate: null,
      low: null,
      high: null,
      marginOfError: null,
      invited: 0,
      lowSample: true,
    });
    // 81 of 263: 30.8 %, Wilson 25.5 .. 36.6, half-width 5.5 points.
    expect(responseRate({ invited: 263, opened: 100, responded: 81, commented: 10 })).toEqual({
      rate: 30.8,
      low: 25.5,
      high: 36.6,
      marginOfError: 5.5,
      invited: 263,
      lowSample: false,
    });
  });
});

describe('invitation input', () => {
  const now = Date.UTC(2026, 10, 23);

  it('takes the invitation id, respondent and segment by the rules of a response, naming its own fields', () => {
    expect(
      validateInvitationInput(
        { surveyId: 's', channel: 'sms', invitationId: 'inv 1', segment: { plan: 7 } },
        now,
        '[3]',
      ),
    ).toEqual({
      ok: false,
      problems: [
        { field: '[3].invitationId', message: 'must be 1-200 printable ASCII characters' },
        { field: '[3].segment.plan', message: 'must be a string of at most 256 characters' },
      ],
    });
    expect(validateInvitationInput({ surveyId: 's', channel: 'fax', score: 3 }, now)).toMatchObject(
      {
        ok: false,
        problems: [
          { field: 'score', message: 'is not a known field' },
          { field: 'channel', message: 'must be one of web, sms, email' },
        ],
      },
    );
    expect(
      validateInvitationInput(
        { surveyId: 's', channel: 'email', invitationId: 'inv-1', segment: { plan: 'pro' } },
        now,
      ),
    ).toEqual({
      ok: true,
      value: {
        surveyId: 's',
        channel: 'email',
        invitationId: 'inv-1',
        respondentId: null,
        segment: { plan: 'pro' },
      },
    });
  });
});
