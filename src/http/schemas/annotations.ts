import { Type } from '@sinclair/typebox';
import { IsoInstant, NOT_BLANK_PATTERN, SurveyId } from '../../domain/response.js';
import { messages } from '../../domain/schema.js';
import { DateTime } from './common.js';
import { ComparisonSchema, QueryInteger } from './read.js';

export const MAX_LABEL = 200;

export const AnnotationId = (options = {}) => SurveyId(options);

export const AnnotationInputSchema = Type.Object(
  {
    surveyId: SurveyId(),
    at: IsoInstant(),
    label: Type.String({
      minLength: 1,
      maxLength: MAX_LABEL,
      description: 'Trimmed; not only blanks.',
      pattern: NOT_BLANK_PATTERN,
      ...messages(`must be 1-${MAX_LABEL} characters, no control characters`),
    }),
    annotationId: Type.Optional(
      AnnotationId({
        description: 'Given by the client, a retry is safe (200, or 409 if it differs).',
      }),
    ),
  },
  {
    additionalProperties: false,
    'x-unknown-message': 'is not a field of an annotation',
    ...messages('must be a JSON object'),
  },
);

export const AnnotationSchema = Type.Object({
  annotationId: Type.String(),
  surveyId: Type.String(),
  at: DateTime(),
  label: Type.String(),
  createdBy: Type.String({ description: 'The key that wrote it, as `key:` and a digest prefix.' }),
  createdAt: DateTime(),
});

export const AnnotationListQuery = Type.Object({
  surveyId: SurveyId(),
  from: Type.Optional(IsoInstant({ description: 'With to: only annotations in from..to.' })),
  to: Type.Optional(IsoInstant()),
});

export const AnnotationListSchema = Type.Object({
  surveyId: Type.String(),
  annotations: Type.Array(AnnotationSchema, { description: 'Oldest first.' }),
});

export const AnnotationPath = Type.Object({ annotationId: AnnotationId() });

export const ImpactQuery = Type.Object({
  annotationId: AnnotationId(),
  days: Type.Optional(QueryInteger(1, 365, 14)),
});

const Period = Type.Object({ from: DateTime(), to: DateTime() });

export const ImpactSchema = Type.Object({
  annotation: AnnotationSchema,
  days: Type.Integer(),
  before: Period,
  after: Period,
  overall: ComparisonSchema,
  channels: Type.Object({ web: ComparisonSchema, sms: ComparisonSchema, email: ComparisonSchema }),
  themes: Type.Array(Type.Composite([Type.Object({ theme: Type.String() }), ComparisonSchema])),
});
