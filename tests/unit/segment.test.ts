import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { FieldProblem } from '../../src/domain/response.js';
import { segmentFilters, segmentStamp } from '../../src/domain/segment.js';

function filters(query: Record<string, unknown>, keys: string[], max?: number) {
  const problems: FieldProblem[] = [];
  const value = segmentFilters(query, keys, problems, max);
  return { value, problems };
}

function stamp(query: Record<string, unknown>) {
  const problems: FieldProblem[] = [];
  const value = segmentStamp(query, problems);
  return { value, problems };
}

describe('segment query parameters', () => {
  it('read filters take segment.<key>=<value> for configured keys, ignoring other parameters', () => {
    expect(
      filters({ surveyId: 's', 'segment.store': 'Nørrebro 12', 'segment.region': '' }, [
        'region',
        'store',
      ]),
    ).toEqual({ value: { store: 'Nørrebro 12', region: '' }, problems: [] });
    expect(filters({ surveyId: 's', channel: 'sms' }, [])).toEqual({ value: {}, problems: [] });
  });

  it('a key not in NPS_SEGMENT_KEYS is refused naming the parameter and the keys there are', () => {
    const { problems } = filters({ 'segment.plan': 'gold' }, ['region', 'store']);
    expect(problems).toEqual([
      {
        field: 'segment.plan',
        message: expect.stringContaining('segment.region, segment.store') as string,
      },
    ]);
    const none = filters({ 'segment.plan': 'gold' }, []);
    expect(none.problems[0]?.message).toContain('NPS_SEGMENT_KEYS');
  });

  it('a value is held to the limits of a response segment, and given once', () => {
    expect(filters({ 'segment.store': 'x'.repeat(257) }, ['store']).problems).toEqual([
      { field: 'segment.store', message: 'must be a string of at most 256 characters' },
    ]);
    expect(filters({ 'segment.store': 'a\u0001b' }, ['store']).problems).toHaveLength(1);
    expect(filters({ 'segment.store': ['a', 'b'] }, ['store']).problems).toEqual([
      { field: 'segment.store', message: 'must be given once' },
    ]);
  });

  it('live takes at most one filter and says so', () => {
    const { problems } = filters(
      { 'segment.store': 'a', 'segment.region': 'dk' },
      ['region', 'store'],
      1,
    );
    expect(problems).toEqual([
      { field: 'segment.region', message: expect.stringContaining('at most 1') as string },
    ]);
    expect(filters({ 'segment.store': 'a' }, ['store'], 1).problems).toEqual([]);
  });

  it('a webhook route stamps any key, within the JSON API limits', () => {
    expect(stamp({ surveyId: 's', 'segment.store': 'aarhus', 'segment.campaign': 'q3' })).toEqual({
      value: { store: 'aarhus', campaign: 'q3' },
      problems: [],
    });
    const tooMany = Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [`segment.k${i}`, 'v']),
    );
    expect(stamp(tooMany).problems).toEqual([
      { field: 'segment', message: 'must have at most 10 entries' },
    ]);
    expect(stamp({ [`segment.${'k'.repeat(65)}`]: 'v' }).problems[0]?.message).toBe(
      'key must be 1-64 characters',
    );
    expect(stamp({ 'segment.': 'v' }).problems[0]?.field).toBe('segment.');
    expect(stamp({ 'segment.store': ['a', 'b'] }).problems[0]?.message).toBe('must be given once');
  });
});

describe('segment settings', () => {
  it('NPS_SEGMENT_KEYS is a comma list, empty by default; NPS_SEGMENT_MAX_VALUES defaults to 200', () => {
    expect(loadConfig({ HOME: '/h' })).toMatchObject({ segmentKeys: [], segmentMaxValues: 200 });
    expect(
      loadConfig({
        HOME: '/h',
        NPS_SEGMENT_KEYS: ' region, store,,region',
        NPS_SEGMENT_MAX_VALUES: '3',
      }),
    ).toMatchObject({ segmentKeys: ['region', 'store'], segmentMaxValues: 3 });
    expect(() => loadConfig({ HOME: '/h', NPS_SEGMENT_KEYS: 'k'.repeat(65) })).toThrow(
      /NPS_SEGMENT_KEYS/,
    );
    expect(() => loadConfig({ HOME: '/h', NPS_SEGMENT_MAX_VALUES: '0' })).toThrow(
      /NPS_SEGMENT_MAX_VALUES/,
    );
  });
});
