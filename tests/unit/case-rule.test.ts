import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_CASE_RULE, parseCaseRule } from '../../src/domain/case-rule.js';

const SCORES = Array.from({ length: 11 }, (_, score) => score);

/** The scores 0-10 the rule matches, with these themes. */
function matching(text: string, themes: readonly string[] | null = null): number[] {
  const rule = parseCaseRule(text);
  return SCORES.filter((score) => rule.matches({ score, themes }));
}

describe('case rule (NPS_CASE_RULE)', () => {
  it('detractor opens a case for 0-6, as the default rule does', () => {
    expect(matching('detractor')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(SCORES.filter((score) => DEFAULT_CASE_RULE.matches({ score, themes: null }))).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
    expect(matching('passive')).toEqual([7, 8]);
    expect(matching(' Promoter ')).toEqual([9, 10]);
  });

  it('score bounds take each comparison', () => {
    expect(matching('score<=4')).toEqual([0, 1, 2, 3, 4]);
    expect(matching('score < 4')).toEqual([0, 1, 2, 3]);
    expect(matching('score>=9')).toEqual([9, 10]);
    expect(matching('score>8')).toEqual([9, 10]);
    expect(matching('score=0')).toEqual([0]);
  });

  it('"," needs every term, "|" any alternative', () => {
    expect(matching('detractor,theme:billing', ['billing'])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(matching('detractor,theme:billing', ['delivery'])).toEqual([]);
    expect(matching('detractor,theme:billing', null)).toEqual([]);
    expect(matching('theme:delivery|theme:customer_service', ['customer_service'])).toEqual(SCORES);
    expect(matching('theme:delivery|score<=1', ['price'])).toEqual([0, 1]);
    expect(matching('passive,score=8|promoter,theme:price', ['price'])).toEqual([8, 9, 10]);
  });

  it('keeps the text as configured', () => {
    expect(parseCaseRule(' detractor,theme:billing ').text).toBe('detractor,theme:billing');
  });

  it('refuses what it cannot read, naming the part', () => {
    expect(() => parseCaseRule('')).toThrow(/empty/);
    expect(() => parseCaseRule('detractors')).toThrow(/"detractors"/);
    expect(() => parseCaseRule('score<=11')).toThrow(/0-10/);
    expect(() => parseCaseRule('score~4')).toThrow(/"score~4"/);
    expect(() => parseCaseRule('theme:')).toThrow(/theme id/);
    expect(() => parseCaseRule('theme:Bad Theme')).toThrow(/theme id/);
    expect(() => parseCaseRule('detractor,,theme:price')).toThrow(/empty term/);
    expect(() => parseCaseRule('detractor|')).toThrow(/empty term/);
  });

  it('config reads NPS_CASE_RULE and NPS_CASE_SLA_HOURS, and names a bad one', () => {
    const config = loadConfig({ HOME: '/h', NPS_CASE_RULE: 'score<=2|theme:price' });
    expect(config.caseRule.text).toBe('score<=2|theme:price');
    expect(config.caseSlaHours).toBe(48);
    expect(loadConfig({ HOME: '/h' }).caseRule.text).toBe('detractor');
    expect(() => loadConfig({ HOME: '/h', NPS_CASE_RULE: 'angry' })).toThrow(
      /NPS_CASE_RULE has "angry"/,
    );
    expect(() => loadConfig({ HOME: '/h', NPS_CASE_SLA_HOURS: '0' })).toThrow(
      /NPS_CASE_SLA_HOURS is out of range/,
    );
  });
});
