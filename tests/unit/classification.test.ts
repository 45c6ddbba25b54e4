import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, isScore } from '../../src/domain/classification.js';

describe('classification', () => {
  it('0-6 are detractors, 7-8 passives, 9-10 promoters', () => {
    const expected = ['d', 'd', 'd', 'd', 'd', 'd', 'd', 'p', 'p', 'P', 'P'];
    const short = { detractor: 'd', passive: 'p', promoter: 'P' } as const;
    expect(expected.map((_, score) => short[classify(score)])).toEqual(expected);
  });

  it('a score is an integer 0-10 and nothing else; classify refuses the rest', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const valid =
          typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 10;
        expect(isScore(value)).toBe(valid);
        if (!valid && typeof value === 'number') expect(() => classify(value)).toThrow(RangeError);
      }),
    );
    for (const value of [-1, 11, 9.5, Number.NaN, '9', null]) expect(isScore(value)).toBe(false);
  });
});
