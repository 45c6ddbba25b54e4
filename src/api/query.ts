import type { Request } from 'express';
import { CHANNELS, SURVEY_ID, SURVEY_ID_MESSAGE, parseIsoInstant } from '../domain/response.js';
import type { Channel, FieldProblem } from '../domain/response.js';
import { invalid } from './problem.js';

/** Query parameters shared by the read endpoints, each checked the same way everywhere. */

export function one(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid([{ field: name, message: 'must be given once' }]);
  return value;
}

/**
 * The survey id. Problems are added to `problems` when given (so that one answer names every bad
 * parameter), else thrown.
 */
export function surveyParam(req: Request, problems?: FieldProblem[]): string {
  const surveyId = one(req, 'surveyId');
  if (surveyId === undefined || !SURVEY_ID.test(surveyId)) {
    report(problems, { field: 'surveyId', message: SURVEY_ID_MESSAGE });
    return '';
  }
  return surveyId;
}

/** The channel, or null for all; problems as in {@link surveyParam}. */
export function channelParam(req: Request, problems?: FieldProblem[]): Channel | null {
  const channel = one(req, 'channel');
  if (channel === undefined) return null;
  if (!(CHANNELS as readonly string[]).includes(channel)) {
    report(problems, { field: 'channel', message: `must be one of ${CHANNELS.join(', ')}` });
    return null;
  }
  return channel as Channel;
}

function report(problems: FieldProblem[] | undefined, problem: FieldProblem): void {
  if (!problems) throw invalid([problem]);
  problems.push(problem);
}

/**
 * A time range `from` (required) to `to` (default: now), both ISO-8601 with a zone, from before
 * to. Problems are added to `problems`; the range is null when either end is unusable. `names`
 * renames the two parameters (`aFrom`/`aTo`), and `to` is then required as well.
 */
export function rangeParams(
  req: Request,
  now: number,
  problems: FieldProblem[],
  names?: { readonly from: string; readonly to: string },
): { from: number; to: number } | null {
  const fromName = names?.from ?? 'from';
  const toName = names?.to ?? 'to';
  const fromRaw = one(req, fromName);
  const toRaw = one(req, toName);
  const from = fromRaw === undefined ? null : parseIsoInstant(fromRaw);
  const to = toRaw === undefined ? (names ? null : now) : parseIsoInstant(toRaw);
  const format = 'must be an ISO-8601 date-time with a time zone';
  if (from === null) problems.push({ field: fromName, message: format });
  if (to === null) problems.push({ field: toName, message: format });
  if (from === null || to === null) return null;
  if (from >= to) {
    problems.push({ field: fromName, message: `must be before ${toName}` });
    return null;
  }
  return { from, to };
}
