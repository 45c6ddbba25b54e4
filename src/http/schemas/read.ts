import { Type } from '@sinclair/typebox';
import { ChannelSchema, IsoInstant, SegmentSchema, SurveyId } from '../../domain/response.js';
import { Nullable, StringEnum, messages } from '../../domain/schema.js';
import { SHIFT_EVENT_SCHEMA } from '../../domain/shift-event.js';
import { WINDOWS } from '../../domain/windows.js';
import type { WindowName } from '../../domain/windows.js';
import { INTERVALS } from '../../storage/history.js';
import { DateTime, NullableNumber, ScoreSchema, withScore } from './common.js';

/** Queries and answers of the read endpoints: live, stream, history, surveys, feed, compare, ... */

const CATEGORIES = ['detractor', 'passive', 'promoter'] as const;
const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];
const Category = (options = {}) => StringEnum(CATEGORIES, options);
const Segment = (description: string) => Type.Record(Type.String(), Type.String(), { description });
const range = {
  from: IsoInstant(),
  to: Type.Optional(IsoInstant({ description: 'Default: now. After from.' })),
};
/** A query's integer (the query's text is converted before the check). */
export const QueryInteger = (min: number, max: number, fallback: number) =>
  Type.Integer({
    minimum: min,
    maximum: max,
    default: fallback,
    ...messages(`must be an integer ${min}-${max}`),
  });

export const LiveQuery = Type.Object({
  surveyId: SurveyId(),
  window: Type.Optional(StringEnum(WINDOW_NAMES, { default: '24h' })),
  channel: Type.Optional(ChannelSchema),
});

export const LiveSchema = withScore(
  Type.Object({
    surveyId: Type.String(),
    channel: Nullable(ChannelSchema),
    window: StringEnum(WINDOW_NAMES),
    from: DateTime(),
    to: DateTime(),
    segment: Type.Optional(
      Segment(
        'The segment read: the value asked for, or `other` past the values tracked live (see note).',
      ),
    ),
    note: Type.Optional(
      Type.String({
        description: 'Present when the value asked for is counted under `other`.',
      }),
    ),
  }),
);

export const HistoryQuery = Type.Object({
  surveyId: SurveyId(),
  ...range,
  interval: Type.Optional(
    StringEnum(INTERVALS, {
      default: 'day',
      description: 'hour spans at most 5000 hours.',
    }),
  ),
  groupBy: Type.Optional(StringEnum(['channel'])),
});

export const HistorySchema = Type.Object({
  surveyId: Type.String(),
  interval: StringEnum(INTERVALS),
  segment: Type.Optional(Segment('The filters as given.')),
  from: DateTime(),
  to: DateTime(),
  series: Type.Array(
    withScore(
      Type.Object({
        start: DateTime({ description: 'Start of the UTC bucket.' }),
        channel: Type.Optional(ChannelSchema),
      }),
    ),
    { description: 'Non-empty buckets in time order; with groupBy=channel one per channel.' },
  ),
  annotations: Type.Array(
    Type.Object({ annotationId: Type.String(), at: DateTime(), label: Type.String() }),
    { description: 'What changed in the range, for markers on the trend.' },
  ),
});

export const SurveysSchema = Type.Object({
  surveys: Type.Array(
    Type.Object({
      surveyId: Type.String(),
      responses: Type.Integer(),
      lastResponseAt: DateTime(),
    }),
  ),
});

export const FeedQuery = Type.Object({
  surveyId: SurveyId(),
  channel: Type.Optional(ChannelSchema),
  category: Type.Optional(Category()),
  from: Type.Optional(IsoInstant({ description: 'Default: 30 days before now.' })),
  to: Type.Optional(IsoInstant({ description: 'Default: now.' })),
  limit: Type.Optional(QueryInteger(1, 200, 50)),
});

export const FeedSchema = Type.Object({
  surveyId: Type.String(),
  channel: Type.Optional(ChannelSchema),
  category: Type.Optional(Category()),
  from: DateTime(),
  to: DateTime(),
  responses: Type.Array(
    Type.Object({
      responseId: Type.String(),
      channel: ChannelSchema,
      score: Type.Integer({ minimum: 0, maximum: 10 }),
      category: Category(),
      comment: Nullable(Type.String()),
      language: Nullable(Type.String()),
      themes: Type.Array(Type.String()),
      respondentId: Type.Optional(Nullable(Type.String())),
      respondedAt: DateTime(),
    }),
  ),
});

export const CompareQuery = Type.Object({
  surveyId: SurveyId(),
  channel: Type.Optional(ChannelSchema),
  aFrom: IsoInstant(),
  aTo: IsoInstant(),
  bFrom: IsoInstant(),
  bTo: IsoInstant(),
});

const comparisonProperties = {
  difference: NullableNumber('b - a in NPS points, one decimal; null when a side is empty.'),
  differenceMarginOfError: NullableNumber('95 % margin of the difference.'),
  z: NullableNumber(),
  pValue: NullableNumber(),
  significant: Type.Boolean({ description: 'At 95 %, and neither side lowSample.' }),
};

/** compareNps (src/domain/compare.ts): a against b. */
export const ComparisonSchema = Type.Object({
  a: ScoreSchema,
  b: ScoreSchema,
  ...comparisonProperties,
});

const Side = withScore(Type.Object({ from: DateTime(), to: DateTime() }));

export const CompareSchema = Type.Object({
  surveyId: Type.String(),
  channel: Type.Optional(ChannelSchema),
  segment: Type.Optional(Segment('The filters as given.')),
  a: Side,
  b: Side,
  ...comparisonProperties,
});

export const ThemesQuery = Type.Object({
  surveyId: SurveyId(),
  ...range,
  channel: Type.Optional(ChannelSchema),
});

export const ThemesHeaders = Type.Object({
  'Accept-Language': Type.Optional(
    Type.String({ description: 'Labels in da, sv or en (the default).' }),
  ),
});

export const ThemesSchema = Type.Object({
  surveyId: Type.String(),
  channel: Type.Optional(ChannelSchema),
  from: DateTime(),
  to: DateTime(),
  taxonomyVersion: Type.String(),
  responses: Type.Integer(),
  commented: Type.Integer(),
  nps: NullableNumber(),
  marginOfError: NullableNumber(),
  lowSample: Type.Boolean(),
  themes: Type.Array(
    Type.Object({
      theme: Type.String(),
      label: Type.String(),
      mentions: Type.Integer(),
      promoters: Type.Integer(),
      passives: Type.Integer(),
      detractors: Type.Integer(),
      lowSample: Type.Boolean(),
      npsWith: NullableNumber(),
      npsWithout: NullableNumber(),
      impact: NullableNumber('Overall NPS minus the NPS without the theme.'),
      impactMarginOfError: NullableNumber(),
      examples: Type.Array(
        Type.Object({
          responseId: Type.String(),
          score: Type.Integer(),
          comment: Type.String(),
          language: Nullable(Type.String()),
          respondedAt: DateTime(),
        }),
        { maxItems: 3 },
      ),
    }),
  ),
});

export const TermsQuery = Type.Object({
  surveyId: SurveyId(),
  ...range,
  channel: Type.Optional(ChannelSchema),
  category: Type.Optional(Category({ default: 'detractor' })),
  compareTo: Type.Optional(StringEnum(['others', 'previous'], { default: 'others' })),
  limit: Type.Optional(QueryInteger(1, 100, 20)),
});

export const TermsSchema = Type.Object({
  surveyId: Type.String(),
  channel: Type.Optional(ChannelSchema),
  from: DateTime(),
  to: DateTime(),
  category: Category(),
  compareTo: StringEnum(['others', 'previous']),
  target: Type.Object({ comments: Type.Integer(), analysed: Type.Integer() }),
  reference: Type.Object({
    from: DateTime(),
    to: DateTime(),
    categories: Type.Array(Category()),
    comments: Type.Integer(),
    analysed: Type.Integer(),
  }),
  terms: Type.Array(
    Type.Object({
      term: Type.String(),
      stem: Type.String(),
      target: Type.Integer(),
      reference: Type.Integer(),
      logOdds: Type.Number(),
      z: Type.Number(),
    }),
  ),
});

export const ShiftsQuery = Type.Object({
  surveyId: SurveyId(),
  ...range,
  channel: Type.Optional(ChannelSchema),
});

export const ShiftSchema = Type.Unsafe<unknown>({
  ...SHIFT_EVENT_SCHEMA,
  description: 'A lasting change of the NPS level found by the live detector (event `nps.shift`).',
});

export const ShiftsSchema = Type.Object({
  surveyId: Type.String(),
  channel: Type.Optional(ChannelSchema),
  from: DateTime(),
  to: DateTime(),
  shifts: Type.Array(Type.Unsafe<unknown>({ $ref: '#/components/schemas/Shift' }), {
    maxItems: 1000,
  }),
});

export const FunnelQuery = Type.Object({
  surveyId: SurveyId(),
  ...range,
  channel: Type.Optional(ChannelSchema),
});

export const FunnelSchema = Type.Object({
  surveyId: Type.String(),
  channel: Type.Optional(ChannelSchema),
  segment: Type.Optional(Segment('The filters as given.')),
  from: DateTime(),
  to: DateTime(),
  stages: Type.Object(
    {
      invited: Type.Integer(),
      opened: Type.Integer(),
      responded: Type.Integer(),
      commented: Type.Integer(),
    },
    {
      description:
        'Invitations created in the range, each counted once per stage it reached: opened is ' +
        'the first GET of the link (mail scanners included); responded is an answer by ' +
        "invitation id, or the respondent's first answer in the survey and channel within the " +
        "link's lifetime; commented is that answer with a comment.",
    },
  ),
  responseRate: Type.Object({
    rate: NullableNumber('responded / invited in percent, one decimal; null without invitations.'),
    low: NullableNumber('Lower bound of the Wilson 95 % interval, percent.'),
    high: NullableNumber('Upper bound of the Wilson 95 % interval, percent.'),
    marginOfError: NullableNumber('Half the width of the interval, percentage points.'),
    invited: Type.Integer({ description: 'Sample size n.' }),
    lowSample: Type.Boolean({ description: 'n is below NPS_MIN_RESPONSES.' }),
  }),
  responders: withScore(Type.Object({}), {
    description: 'The NPS (with n and margin) of the answers that responded to these invitations.',
  }),
});

export { SegmentSchema };
