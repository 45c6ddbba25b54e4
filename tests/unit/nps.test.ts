import { describe, expect, it } from 'vitest';
import { classify } from '../../src/domain/classification.js';
import { summarize } from '../../src/domain/nps.js';

describe('classification', () => {
  it.each([
    [0, 'detractor'],
    [6, 'detractor'],
    [7, 'passive'],
    [8, 'passive'],
    [9, 'promoter'],
    [10, 'promoter'],
  ] as const)('%i is a %s', (score, category) => {
    expect(classify(score)).toBe(category);
  });

  it.each([-1, 11, 7.5, Number.NaN])('%d is not a score', (score) => {
    expect(() => classify(score)).toThrow(RangeError);
  });
});

describe('NPS with its margin of error', () => {
  it('is null, with n = 0, when there are no responses', () => {
    expect(summarize({ promoters: 0, passives: 0, detractors: 0 })).toEqual({
      promoters: 0,
      passives: 0,
      detractors: 0,
      responses: 0,
      nps: null,
      marginOfError: null,
      lowSample: true,
    });
  });

  it('flags fewer responses than the minimum as a low sample', () => {
    const tally = { promoters: 20, passives: 5, detractors: 4 }; // 29 responses
    expect(summarize(tally).lowSample).toBe(true);
    expect(summarize({ ...tally, passives: 6 }).lowSample).toBe(false);
    expect(summarize(tally, 29).lowSample).toBe(false);
    expect(summarize(tally, 100).lowSample).toBe(true);
  });

  it('matches a hand computation: 50 promoters, 30 passives, 20 detractors', () => {
    // p = 0.5, d = 0.2: NPS 30; variance 0.7 - 0.09 = 0.61; MoE 196 * sqrt(0.0061) = 15.308...
    expect(summarize({ promoters: 50, passives: 30, detractors: 20 })).toMatchObject({
      responses: 100,
      nps: 30,
      marginOfError: 15.3,
    });
  });

  it('rounds to one decimal: 1 promoter, 2 passives, 0 detractors', () => {
    // NPS 33.33.. -> 33.3; variance 1/3 - 1/9 = 2/9; MoE 196 * sqrt(2/27) = 53.34.. -> 53.3
    expect(summarize({ promoters: 1, passives: 2, detractors: 0 })).toMatchObject({
      nps: 33.3,
      marginOfError: 53.3,
    });
  });

  it('is -100 with no margin when everyone is a detractor', () => {
    expect(summarize({ promoters: 0, passives: 0, detractors: 7 })).toMatchObject({
      nps: -100,
      marginOfError: 0,
    });
  });
});
