import { validateSegment } from './response.js';
import type { FieldProblem } from './response.js';

/**
 * Segments in query strings: `segment.<key>=<value>`. Read endpoints take them as filters (only
 * for the keys of NPS_SEGMENT_KEYS, the ones the live windows slice by); webhook routes take them
 * as the segment to stamp on every response they record.
 */

export const SEGMENT_PARAM_PREFIX = 'segment.';

/**
 * The bucket live windows count a segment value in once NPS_SEGMENT_MAX_VALUES values of its key
 * are tracked for a survey. Reserved: a response whose value is literally `other` counts there.
 */
export const OTHER_SEGMENT = 'other';

/** Segment values tracked live per survey and key before further ones count under `other`. */
export const DEFAULT_SEGMENT_MAX_VALUES = 200;

/** How many segment filters a live window (GET /v1/nps/live, the SSE stream) can take at once. */
export const MAX_LIVE_SEGMENT_FILTERS = 1;

type Query = Readonly<Record<string, unknown>>;

/** The `segment.<key>` parameters of a query, as given (a repeated one is an array). */
function segmentParams(query: Query): [string, unknown][] {
  return Object.entries(query)
    .filter(([name]) => name.startsWith(SEGMENT_PARAM_PREFIX))
    .map(([name, value]) => [name.slice(SEGMENT_PARAM_PREFIX.length), value]);
}

function givenOnce(key: string, value: unknown, problems: FieldProblem[]): value is string {
  if (typeof value === 'string') return true;
  problems.push({ field: `${SEGMENT_PARAM_PREFIX}${key}`, message: 'must be given once' });
  return false;
}

/**
 * The segment filters of a read (`segment.<key>=<value>`, AND-ed), each key one of `keys`
 * (NPS_SEGMENT_KEYS) and its value within the limits a response's segment has. Problems name the
 * parameter; `max` bounds how many are given at once.
 */
export function segmentFilters(
  query: Query,
  keys: readonly string[],
  problems: FieldProblem[],
  max = Infinity,
): Record<string, string> {
  const given = segmentParams(query);
  const filters: Record<string, string> = {};
  for (const [key, value] of given) {
    const field = `${SEGMENT_PARAM_PREFIX}${key}`;
    if (!keys.includes(key)) {
      problems.push({
        field,
        message:
          keys.length === 0
            ? 'is not available: no segment key is configured (NPS_SEGMENT_KEYS)'
            : `is not a segment key that can be sliced; one of ${keys.map((k) => SEGMENT_PARAM_PREFIX + k).join(', ')} (NPS_SEGMENT_KEYS)`,
      });
    } else if (givenOnce(key, value, problems)) {
      Object.assign(filters, validateSegment({ [key]: value }, problems));
    }
  }
  if (given.length > max) {
    problems.push({
      field: `${SEGMENT_PARAM_PREFIX}${given[max]?.[0] ?? ''}`,
      message: `live windows take at most ${max} segment filter at once (history and compare take several)`,
    });
  }
  return filters;
}

/**
 * The segment a webhook route stamps on its responses: every `segment.<key>=<value>` of its URL,
 * any key (as the JSON API's `segment`), checked with the same limits.
 */
export function segmentStamp(query: Query, problems: FieldProblem[]): Record<string, string> {
  const given: Record<string, unknown> = {};
  for (const [key, value] of segmentParams(query)) {
    if (givenOnce(key, value, problems)) given[key] = value;
  }
  return validateSegment(given, problems);
}
