import { Type } from '@sinclair/typebox';
import type { SchemaOptions, TObject } from '@sinclair/typebox';
import { Nullable } from '../../domain/schema.js';

/**
 * Building blocks of the HTTP schemas in this folder. Every request and answer body, query and
 * header set of the API is declared here once, as TypeBox (plain JSON Schema 2020-12): the routes
 * check requests with it (src/domain/schema.ts) and src/api/openapi.ts embeds it as it is.
 */

/** An instant as answers give it (always toISOString, UTC). */
export const DateTime = (options: SchemaOptions = {}) =>
  Type.String({ format: 'date-time', ...options });

export const NullableNumber = (description?: string) =>
  Nullable(Type.Number(description === undefined ? {} : { description }));

/** RFC 9457 problem details, as every error leaves (src/api/problem.ts). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String()),
    instance: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), {
        description: 'A 400 names each field (`[i].field` in a batch) and what it must be.',
      }),
    ),
  },
  { description: 'RFC 9457 problem details.' },
);

/** The score part every NPS answer has (src/domain/nps.ts `summarize`). */
export const ScoreSchema = Type.Object({
  responses: Type.Integer({ description: 'Sample size n.' }),
  promoters: Type.Integer(),
  passives: Type.Integer(),
  detractors: Type.Integer(),
  nps: NullableNumber('% promoters - % detractors, one decimal; null when n = 0.'),
  marginOfError: NullableNumber(
    '95 % margin in NPS points: 100*1.96*sqrt((p+d-(p-d)^2)/n), one decimal; null when n = 0.',
  ),
  lowSample: Type.Boolean({
    description: 'n is below NPS_MIN_RESPONSES (default 30): too few answers to read the score by.',
  }),
});

/** The score with `more`'s properties: one flat object, as answers spread a score into theirs. */
export function withScore<T extends TObject>(more: T, options: SchemaOptions = {}) {
  return Type.Composite([ScoreSchema, more], options);
}
