import type { Request } from 'express';
import type { Static, TObject } from '@sinclair/typebox';
import { parseIsoInstant } from '../domain/response.js';
import type { FieldProblem } from '../domain/response.js';
import { schemaProblems } from '../domain/schema.js';

/**
 * Query parameters, checked by the operation's query schema (src/api/schemas): the same object
 * the OpenAPI document lists as the operation's parameters.
 */

/**
 * The declared parameters of the query, checked by `schema`: each given at most once, integers
 * converted from their text. Problems are added to `problems`; the value is only what it claims
 * to be when none were added. Parameters the schema does not declare are ignored here.
 */
export function checkQuery<T extends TObject>(
  req: Request,
  schema: T,
  problems: FieldProblem[],
): Static<T> {
  const given: Record<string, unknown> = {};
  const repeated = new Set<string>();
  for (const name of Object.keys(schema.properties)) {
    const value: unknown = req.query[name];
    if (value === undefined) continue;
    if (typeof value === 'string') given[name] = value;
    else repeated.add(name);
  }
  for (const name of repeated) problems.push({ field: name, message: 'must be given once' });
  problems.push(
    ...schemaProblems(schema, given, '', { coerce: true }).filter((p) => !repeated.has(p.field)),
  );
  return given;
}

/** The same for a route's path parameters (`req.params`). */
export function checkPath(req: Request, schema: TObject): FieldProblem[] {
  return schemaProblems(schema, { ...req.params });
}

/**
 * A time range `from` to `to` (default: now), both already checked by the query schema, from
 * before to; null when either end is unusable. `names` are the two parameters' names (`aFrom`,
 * `aTo`), for the problem that from is not before to.
 */
export function rangeOf(
  fromText: string | undefined,
  toText: string | undefined,
  now: number,
  problems: FieldProblem[],
  names: { readonly from: string; readonly to: string } = { from: 'from', to: 'to' },
): { from: number; to: number } | null {
  const from = fromText === undefined ? null : parseIsoInstant(fromText);
  const to = toText === undefined ? now : parseIsoInstant(toText);
  // A date the pattern lets through but no calendar has (2026-02-31).
  const format = 'must be an ISO-8601 date-time with a time zone';
  if (from === null && fromText !== undefined)
    problems.push({ field: names.from, message: format });
  if (to === null) problems.push({ field: names.to, message: format });
  if (from === null || to === null) return null;
  if (from >= to) {
    problems.push({ field: names.from, message: `must be before ${names.to}` });
    return null;
  }
  return { from, to };
}
