import { describe, expect, it } from 'vitest';
import {
  foldCase,
  medianWithInterval,
  percentWithMargin,
  refusedTransition,
  summarizeCases,
} from '../../src/domain/cases.js';
import type { CaseChange, OpenedCase } from '../../src/domain/cases.js';
import { mulberry32 } from '../support/mulberry32.js';

const HOUR = 3_600_000;

function opened(n: number, score = 3): OpenedCase {
  return {
    caseId: `case_${String(n).padStart(24, '0')}`,
    responseId: `r-${n}`,
    surveyId: 's',
    channel: 'web',
    score,
    comment: null,
    themes: [],
    respondentId: `p-${n}`,
    respondedAt: n * HOUR,
    openedAt: n * HOUR,
    dueAt: n * HOUR + 48 * HOUR,
  };
}

function change(c: OpenedCase, i: number, at: number, fields: Partial<CaseChange>): CaseChange {
  return {
    changeId: `chg_${i}`,
    caseId: c.caseId,
    by: 'key:a',
    at,
    status: null,
    note: null,
    ...fields,
  };
}

describe('case state', () => {
  it('folds changes in time order: status, assignee, notes, first contact and resolution', () => {
    const c = opened(1);
    const changes = [
      change(c, 3, 5 * HOUR, { status: 'resolved', note: 'refund sent' }),
      change(c, 1, 2 * HOUR, { assignee: 'Ann', note: 'calling' }),
      change(c, 2, 3 * HOUR, { status: 'contacted', by: 'key:b' }),
      change(c, 4, 6 * HOUR, { status: 'open', assignee: null }),
    ];
    const state = foldCase(c, changes, null);
    expect(state).toMatchObject({
      status: 'open',
      assignee: null,
      firstContactAt: 3 * HOUR,
      resolvedAt: null,
      laterScore: null,
      recovered: null,
    });
    expect(state.notes).toEqual([
      { at: 2 * HOUR, by: 'key:a', note: 'calling' },
      { at: 5 * HOUR, by: 'key:a', note: 'refund sent' },
    ]);
    expect(foldCase(c, changes.slice(0, 3), null).resolvedAt).toBe(5 * HOUR);
  });

  it('a later answer in a better category is a recovery; the same category is not', () => {
    expect(foldCase(opened(1, 3), [], { score: 9, respondedAt: 9 }).recovered).toBe(true);
    expect(foldCase(opened(1, 3), [], { score: 7, respondedAt: 9 }).recovered).toBe(true);
    expect(foldCase(opened(1, 3), [], { score: 6, respondedAt: 9 })).toMatchObject({
      laterScore: 6,
      recovered: false,
    });
    expect(foldCase(opened(1, 8), [], { score: 0, respondedAt: 9 }).recovered).toBe(false);
  });

  it('a contacted case cannot go back to open; a resolved one can be reopened', () => {
    expect(refusedTransition('contacted', 'open')).toMatch(/contacted/);
    expect(refusedTransition('resolved', 'open')).toBeNull();
    expect(refusedTransition('open', 'resolved')).toBeNull();
  });
});

describe('case summary statistics', () => {
  it('counts per status, overdue, median time to first contact and the recovery rate', () => {
    const cases = Array.from({ length: 7 }, (_, i) => opened(i));
    // Contact after 1, 2, 3, 10 hours; case 4 resolved without contact after 5 hours.
    const waits = [1, 2, 3, 10];
    const states = cases.map((c, i) => {
      const changes =
        i < 4
          ? [change(c, i, c.openedAt + (waits[i] as number) * HOUR, { status: 'contacted' })]
          : i === 4
            ? [change(c, i, c.openedAt + 5 * HOUR, { status: 'resolved' })]
            : [];
      const later = i < 3 ? { score: i === 0 ? 3 : 9, respondedAt: c.respondedAt + 1 } : null;
      return foldCase(c, changes, later);
    });
    // Now: case 5 (opened at 5 h) is past due, case 6 (due at 54 h) is not.
    const summary = summarizeCases(states, 53.5 * HOUR);
    expect(summary.cases).toBe(7);
    expect(summary.statuses).toEqual({ open: 2, contacted: 4, resolved: 1 });
    expect(summary.overdue).toBe(1);
    // First contacts after 1, 2, 3, 5 and 10 hours: median 3 h, n = 5.
    expect(summary.timeToFirstContact.n).toBe(5);
    expect(summary.timeToFirstContact.medianSeconds).toBe(3 * 3600);
    // Later answers from cases 0-2; 1 and 2 came back as promoters: 2 of 3.
    expect(summary.recovery).toEqual({
      n: 3,
      recovered: 2,
      rate: 66.7,
      marginOfError: Math.round(1000 * 1.96 * Math.sqrt(((2 / 3) * (1 / 3)) / 3)) / 10,
    });
  });

  it('nothing to summarize gives counts of zero and no rates', () => {
    expect(summarizeCases([], 0)).toEqual({
      cases: 0,
      statuses: { open: 0, contacted: 0, resolved: 0 },
      overdue: 0,
      timeToFirstContact: { n: 0, medianSeconds: null, ci95Seconds: null },
      recovery: { n: 0, recovered: 0, rate: null, marginOfError: null },
    });
    expect(percentWithMargin(0, 0)).toEqual({ rate: null, marginOfError: null });
  });

  it('the median of an even count is the mean of the middle two', () => {
    expect(medianWithInterval([4, 1, 3, 2]).median).toBe(2.5);
    expect(medianWithInterval([7]).median).toBe(7);
  });

  it('the 95 % interval of the median covers the true median about 95 % of the time (seeded simulation)', () => {
    const random = mulberry32(12);
    for (const n of [15, 40, 200]) {
      let covered = 0;
      const trials = 2000;
      for (let t = 0; t < trials; t++) {
        // Exponential waits with median ln 2.
        const sample = Array.from({ length: n }, () => -Math.log(1 - random()));
        const { ci95 } = medianWithInterval(sample);
        if (ci95 && ci95[0] <= Math.LN2 && Math.LN2 <= ci95[1]) covered += 1;
      }
      const coverage = covered / trials;
      expect(coverage, `n = ${n}`).toBeGreaterThan(0.93);
      expect(coverage, `n = ${n}`).toBeLessThan(0.995);
    }
  });

  it('the recovery margin is the normal 95 % margin in points', () => {
    // p = 0.75, n = 4: 1.96 * sqrt(0.1875 / 4) = 0.42435...
    expect(percentWithMargin(3, 4)).toEqual({ rate: 75, marginOfError: 42.4 });
    expect(percentWithMargin(1, 8)).toEqual({ rate: 12.5, marginOfError: 22.9 });
  });
});
