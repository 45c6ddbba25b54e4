import type { Request } from 'express';
import type { FieldProblem } from '../domain/response.js';
import { MAX_LIVE_SEGMENT_FILTERS, segmentFilters } from '../domain/segment.js';
import { invalid } from '../http/problem.js';

/** One segment slice of a live window: `segment.<key>=<value>`. */
export interface LiveSegment {
  readonly key: string;
  readonly value: string;
}

/**
 * The segment filters of a history or compare read (any number, AND-ed), each for a key of
 * NPS_SEGMENT_KEYS. Problems are added to `problems`.
 */
export function segmentParams(
  req: Request,
  keys: readonly string[],
  problems: FieldProblem[],
): Record<string, string> {
  return segmentFilters(req.query, keys, problems);
}

/**
 * The one segment filter a live window or stream takes (live windows are sliced by one key at a
 * time), or null. Problems are thrown as a 400 naming the parameter.
 */
export function liveSegmentParam(req: Request, keys: readonly string[]): LiveSegment | null {
  const problems: FieldProblem[] = [];
  const filters = segmentFilters(req.query, keys, problems, MAX_LIVE_SEGMENT_FILTERS);
  if (problems.length > 0) throw invalid(problems);
  const [entry] = Object.entries(filters);
  return entry ? { key: entry[0], value: entry[1] } : null;
}
