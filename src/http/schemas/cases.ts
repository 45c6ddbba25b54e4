import { Type } from '@sinclair/typebox';
import { CASE_STATUSES } from '../../domain/cases.js';
import {
  ChannelSchema,
  IsoInstant,
  NO_CONTROL_PATTERN,
  NOT_BLANK_PATTERN,
  SurveyId,
} from '../../domain/response.js';
import { Nullable, StringEnum, messages } from '../../domain/schema.js';
import { DateTime } from './common.js';
import { QueryInteger } from './read.js';

export const CASE_ID_PATTERN = '^case_[A-Za-z0-9_-]{24}$';
export const MAX_ASSIGNEE = 200;
export const MAX_NOTE = 5000;
export const MAX_IDEMPOTENCY_KEY = 200;

const Status = (options = {}) => StringEnum(CASE_STATUSES, options);
const NullableDateTime = (description?: string) =>
  Nullable(DateTime(description === undefined ? {} : { description }));

export const CaseSchema = Type.Object(
  {
    caseId: Type.String(),
    responseId: Type.String(),
    surveyId: Type.String(),
    channel: ChannelSchema,
    score: Type.Integer({ minimum: 0, maximum: 10 }),
    comment: Nullable(Type.String()),
    themes: Type.Array(Type.String()),
    respondentId: Nullable(Type.String()),
    status: Status(),
    assignee: Nullable(Type.String()),
    openedAt: DateTime({ description: 'When ingest accepted the response.' }),
    firstContactAt: NullableDateTime('First change to contacted or resolved.'),
    resolvedAt: NullableDateTime(),
    dueAt: DateTime({ description: 'openedAt + NPS_CASE_SLA_HOURS.' }),
    overdue: Type.Boolean({ description: 'Past dueAt without a first contact.' }),
    notes: Type.Array(Type.Object({ at: DateTime(), by: Type.String(), note: Type.String() })),
    laterScore: Nullable(
      Type.Integer({
        description: "The respondent's first later answer to the same survey; null without one.",
      }),
    ),
    recovered: Nullable(
      Type.Boolean({
        description: "Whether that answer's category is better than the case's; null without one.",
      }),
    ),
  },
  { description: 'A follow-up case: the response that opened it, folded with every change since.' },
);

export const CaseWithChangesSchema = Type.Composite([
  CaseSchema,
  Type.Object({
    changes: Type.Array(
      Type.Object({
        changeId: Type.String(),
        at: DateTime(),
        by: Type.String(),
        status: Type.Optional(Status()),
        assignee: Type.Optional(Nullable(Type.String())),
        note: Type.Optional(Type.String()),
      }),
      { description: 'Every change, oldest first: who, when, what.' },
    ),
  }),
]);

export const CaseChangeSchema = Type.Object(
  {
    status: Type.Optional(
      Status({ description: 'contacted -> open is refused (409); resolved may reopen.' }),
    ),
    assignee: Type.Optional(
      Nullable(
        Type.String({
          maxLength: MAX_ASSIGNEE,
          pattern: NOT_BLANK_PATTERN,
          ...messages(`must be null or 1-${MAX_ASSIGNEE} characters, no control characters`),
        }),
      ),
    ),
    note: Type.Optional(
      Type.String({
        maxLength: MAX_NOTE,
        pattern: NOT_BLANK_PATTERN,
        ...messages(`must be 1-${MAX_NOTE} characters, no control characters but line breaks`),
      }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    'x-unknown-message': 'is not a field of a case change',
    ...messages({
      type: 'must be a JSON object',
      minProperties: 'must change at least one of status, assignee, note',
    }),
  },
);

export const CaseChangeHeaders = Type.Object({
  'Idempotency-Key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: MAX_IDEMPOTENCY_KEY,
      pattern: NO_CONTROL_PATTERN,
      description:
        'A retry with the same key is kept once; the key reused for another change: 409.',
      ...messages(`must be 1-${MAX_IDEMPOTENCY_KEY} characters, no control characters`),
    }),
  ),
});

export const CaseListQuery = Type.Object({
  surveyId: Type.Optional(SurveyId()),
  status: Type.Optional(Status()),
  theme: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9_-]{1,64}$',
      ...messages('must be a theme id of a-z 0-9 _ -'),
    }),
  ),
  cursor: Type.Optional(Type.String({ description: 'nextCursor of the page before.' })),
  limit: Type.Optional(QueryInteger(1, 200, 50)),
});

export const CaseListSchema = Type.Object({
  cases: Type.Array(CaseSchema),
  nextCursor: Nullable(Type.String({ description: 'null on the last page.' })),
});

export const CaseSummaryQuery = Type.Object({
  surveyId: SurveyId(),
  from: IsoInstant(),
  to: Type.Optional(IsoInstant({ description: 'Default: now.' })),
});

export const CaseSummarySchema = Type.Object({
  surveyId: Type.String(),
  from: DateTime(),
  to: DateTime(),
  cases: Type.Integer(),
  statuses: Type.Object({
    open: Type.Integer(),
    contacted: Type.Integer(),
    resolved: Type.Integer(),
  }),
  overdue: Type.Integer(),
  timeToFirstContact: Type.Object({
    n: Type.Integer(),
    medianSeconds: Nullable(Type.Number()),
    ci95Seconds: Nullable(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 })),
  }),
  recovery: Type.Object({
    n: Type.Integer({ description: 'Cases whose respondent answered the survey again later.' }),
    recovered: Type.Integer(),
    rate: Nullable(Type.Number()),
    marginOfError: Nullable(Type.Number()),
  }),
});

export const CasePath = Type.Object({
  caseId: Type.String({
    pattern: CASE_ID_PATTERN,
    ...messages('must be case_ and 24 characters of A-Z a-z 0-9 _ -'),
  }),
});
