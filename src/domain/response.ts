import { Type } from '@sinclair/typebox';
import type { SchemaOptions, Static } from '@sinclair/typebox';
import { maskContacts } from './mask.js';
import { MESSAGE, Nullable, StringEnum, conforms, messages, schemaProblems } from './schema.js';
import type { FieldProblem } from './schema.js';

export const CHANNELS = ['web', 'sms', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/** One normalized response, as it travels through Kafka (schemas/nps-response.avsc). */
export interface NpsResponse {
  readonly responseId: string;
  readonly surveyId: string;
  readonly channel: Channel;
  readonly score: number;
  readonly comment: string | null;
  readonly locale: string | null;
  readonly respondentId: string | null;
  readonly segment: Readonly<Record<string, string>>;
  /** Epoch milliseconds, UTC. */
  readonly respondedAt: number;
  /** Epoch milliseconds, UTC. */
  readonly receivedAt: number;
  readonly providerMessageId: string | null;
  /** Language of the comment (da, sv, en) as tagged with the themes; null until tagged or unknown. */
  readonly language: string | null;
  /** Theme ids the comment mentions; null until the stream processor tagged it. */
  readonly themes: readonly string[] | null;
  /** The taxonomy version that produced `themes`. */
  readonly taxonomyVersion: string | null;
}

/** What a channel knows of a response; everything else has a default. */
export interface ResponseFields {
  readonly responseId: string;
  readonly surveyId: string;
  readonly channel: Channel;
  readonly score: number;
  readonly comment?: string | null;
  readonly locale?: string | null;
  readonly respondentId?: string | null;
  readonly segment?: Readonly<Record<string, string>>;
  readonly respondedAt: number;
  readonly receivedAt: number;
  readonly providerMessageId?: string | null;
}

/**
 * The one way a channel builds the response it publishes. Phone numbers and email addresses that
 * customers write inside a comment are masked here, before the comment reaches Kafka or any store.
 * Themes are left to the stream processor.
 */
export function normalizedResponse(fields: ResponseFields): NpsResponse {
  const comment = fields.comment ?? null;
  return {
    responseId: fields.responseId,
    surveyId: fields.surveyId,
    channel: fields.channel,
    score: fields.score,
    comment: comment === null ? null : maskContacts(comment),
    locale: fields.locale ?? null,
    respondentId: fields.respondentId ?? null,
    segment: fields.segment ?? {},
    respondedAt: fields.respondedAt,
    receivedAt: fields.receivedAt,
    providerMessageId: fields.providerMessageId ?? null,
    language: null,
    themes: null,
    taxonomyVersion: null,
  };
}

export const SURVEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** What a field of SURVEY_ID's form (a survey or annotation id) must be, in every 400 naming it. */
export const SURVEY_ID_MESSAGE = 'must be 1-64 characters of A-Z a-z 0-9 . _ -';
const RESPONSE_ID = /^[\x21-\x7e]{1,200}$/;
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
export const MAX_FUTURE_MS = 5 * 60 * 1000;
/** respondedAt may not be older than this (2000-01-01T00:00:00Z): older means a broken clock. */
export const RESPONDED_AT_FLOOR = Date.UTC(2000, 0, 1);
export const MAX_COMMENT_LENGTH = 5000;
export const MAX_RESPONSE_ID = 200;
export const MAX_RESPONDENT_ID = 320;
export const MAX_LOCALE = 35;
export const MAX_SEGMENT_ENTRIES = 10;
export const MAX_SEGMENT_KEY = 64;
export const MAX_SEGMENT_VALUE = 256;

export type { FieldProblem };

export type Validated<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

// Text we store must be valid Unicode without control characters other than newline and tab.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]|[\ud800-\udfff]/u;
/** The same rule as a JSON Schema pattern (ECMA-262, read with the `u` flag). */
export const NO_CONTROL_PATTERN = String.raw`^[^\u0000-\u0008\u000b-\u001f\u007f\ud800-\udfff]*$`;

/** NO_CONTROL_PATTERN and not only blanks: for text that is trimmed and must say something. */
export const NOT_BLANK_PATTERN = String.raw`^(?=[\s\S]*\S)[^\u0000-\u0008\u000b-\u001f\u007f\ud800-\udfff]*$`;

/** Control characters and lone surrogates: never accepted in a text field. */
export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

// Date-time with an explicit zone (Z or +hh:mm); a zoneless time would be read in the server's zone.
const ISO_INSTANT =
  /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;
export const ISO_INSTANT_MESSAGE = 'must be an ISO-8601 date-time with a time zone';

/**
 * An instant as requests give it: ISO-8601 with a zone, seconds optional. Not JSON Schema's
 * `date-time` format, which needs seconds that clients have been allowed to leave out.
 */
export const IsoInstant = (options: SchemaOptions = {}) =>
  Type.String({
    pattern: ISO_INSTANT.source,
    description: 'ISO-8601 date-time with a time zone (Z or +hh:mm), seconds optional.',
    ...messages(ISO_INSTANT_MESSAGE),
    ...options,
  });

export const SurveyId = (options: SchemaOptions = {}) =>
  Type.String({ pattern: SURVEY_ID.source, ...messages(SURVEY_ID_MESSAGE), ...options });

export const ChannelSchema = StringEnum(CHANNELS);

/** Optional text of at most `max` characters without control characters; null is the same as absent. */
function optionalText(max: number, options: SchemaOptions = {}) {
  return Type.Optional(
    Nullable(
      Type.String({
        maxLength: max,
        pattern: NO_CONTROL_PATTERN,
        ...options,
        ...messages({
          type: 'must be a string',
          maxLength: `must be at most ${max} characters`,
          pattern: 'must not contain control characters',
          ...(options[MESSAGE] as Record<string, string> | undefined),
        }),
      }),
    ),
  );
}

/** A response's responseId, and an invitation's invitationId (a response through its link has it). */
export const ResponseIdSchema = (description: string) =>
  optionalText(MAX_RESPONSE_ID, {
    pattern: RESPONSE_ID.source,
    description,
    [MESSAGE]: { pattern: `must be 1-${MAX_RESPONSE_ID} printable ASCII characters` },
  });

export const RespondentIdSchema = (description: string) =>
  optionalText(MAX_RESPONDENT_ID, { description });

/**
 * A response's segment map (the JSON API's `segment`, a webhook route's `segment.<key>` query
 * parameters): at most MAX_SEGMENT_ENTRIES keys of 1-64 characters, each a string value of at
 * most 256, no control characters.
 */
export const SegmentSchema = Type.Record(
  Type.String(),
  Type.String({
    maxLength: MAX_SEGMENT_VALUE,
    pattern: NO_CONTROL_PATTERN,
    ...messages(`must be a string of at most ${MAX_SEGMENT_VALUE} characters`),
  }),
  {
    maxProperties: MAX_SEGMENT_ENTRIES,
    propertyNames: {
      minLength: 1,
      maxLength: MAX_SEGMENT_KEY,
      pattern: NO_CONTROL_PATTERN,
      ...messages(`key must be 1-${MAX_SEGMENT_KEY} characters`),
    },
    description:
      `Up to ${MAX_SEGMENT_ENTRIES} keys of 1-${MAX_SEGMENT_KEY} characters, each value a string ` +
      `of at most ${MAX_SEGMENT_VALUE}, no control characters.`,
    ...messages({
      type: 'must be an object of strings',
      maxProperties: `must have at most ${MAX_SEGMENT_ENTRIES} entries`,
    }),
  },
);

/** One item of `POST /v1/responses`. */
export const ResponseInputSchema = Type.Object(
  {
    surveyId: SurveyId(),
    score: Type.Integer({
      minimum: 0,
      maximum: 10,
      ...messages('must be an integer from 0 to 10'),
    }),
    comment: optionalText(MAX_COMMENT_LENGTH, {
      description: 'Trimmed; empty is no comment. Emails and phone numbers in it are masked.',
    }),
    responseId: ResponseIdSchema('Deduplication key; a UUID when absent.'),
    respondentId: RespondentIdSchema(
      'An email or phone number is pseudonymized (NPS_PSEUDONYM_KEY) before anything keeps it.',
    ),
    respondedAt: Type.Optional(
      Nullable(
        IsoInstant({
          description:
            'Default now. At most 5 minutes ahead of the server clock and not before ' +
            '2000-01-01T00:00:00Z (both checked with the clock, after this schema).',
        }),
      ),
    ),
    channel: Type.Optional(ChannelSchema),
    locale: optionalText(MAX_LOCALE, {
      pattern: LOCALE.source,
      description: 'BCP 47 language tag.',
      examples: ['da', 'sv', 'en-GB'],
      [MESSAGE]: { pattern: 'must be a BCP 47 language tag such as da, sv or en-GB' },
    }),
    segment: Type.Optional(Nullable(SegmentSchema)),
  },
  {
    additionalProperties: false,
    ...messages('must be a JSON object'),
  },
);

/** What the schema lets through, before defaults and the clock's rules. */
type ResponseItem = Static<typeof ResponseInputSchema>;

export interface ResponseInput {
  readonly surveyId: string;
  readonly score: number;
  readonly comment: string | null;
  readonly responseId: string | null;
  readonly respondentId: string | null;
  readonly respondedAt: number | null;
  readonly channel: Channel;
  readonly locale: string | null;
  readonly segment: Readonly<Record<string, string>>;
}

/**
 * The rules of respondedAt that need the clock (JSON Schema has no "now"): a real instant, at
 * most 5 minutes ahead, not before RESPONDED_AT_FLOOR.
 */
export function respondedAtProblem(value: string, now: number): string | null {
  const ms = parseIsoInstant(value);
  if (ms === null) return ISO_INSTANT_MESSAGE;
  if (ms > now + MAX_FUTURE_MS) return 'must not be more than 5 minutes in the future';
  if (ms < RESPONDED_AT_FLOOR) return 'must not be before 2000-01-01';
  return null;
}

/** Checks one `POST /v1/responses` item; `now` bounds respondedAt (at most 5 minutes ahead). */
export function validateResponseInput(
  input: unknown,
  now: number,
  path = '',
): Validated<ResponseInput> {
  const problems = schemaProblems(ResponseInputSchema, input, path);
  // The clock's rules too, so that one answer names every broken field.
  const field = path === '' ? 'respondedAt' : `${path}.respondedAt`;
  const given: unknown =
    typeof input === 'object' && input !== null ? (input as ResponseItem).respondedAt : null;
  const late = typeof given === 'string' ? respondedAtProblem(given, now) : null;
  if (late !== null && !problems.some((p) => p.field === field)) {
    problems.push({ field, message: late });
  }
  if (problems.length > 0 || !conforms(ResponseInputSchema, input)) {
    return { ok: false, problems };
  }
  const item: ResponseItem = input;
  const respondedAt = item.respondedAt ?? null;
  const comment = item.comment?.trim() ?? '';
  return {
    ok: true,
    value: {
      surveyId: item.surveyId,
      score: item.score,
      comment: comment === '' ? null : comment,
      responseId: item.responseId ?? null,
      respondentId: item.respondentId ?? null,
      respondedAt: respondedAt === null ? null : parseIsoInstant(respondedAt),
      channel: item.channel ?? 'web',
      locale: item.locale ?? null,
      segment: item.segment ?? {},
    },
  };
}

/**
 * Checks a segment map given outside a JSON body (a webhook route's `segment.<key>` query
 * parameters) by SegmentSchema. Problems name `segment` or `segment.<key>`.
 */
export function validateSegment(
  segment: unknown,
  problems: FieldProblem[],
  at: (field: string) => string = (field) => field,
): Record<string, string> {
  const found = schemaProblems(Type.Object({ segment: SegmentSchema }), { segment });
  problems.push(...found.map((p) => ({ ...p, field: at(p.field) })));
  if (typeof segment !== 'object' || segment === null) return {};
  if (found.length > 0) {
    // Values that passed are kept, as before: callers report the problems and record nothing.
    const kept: Record<string, string> = {};
    for (const [key, value] of Object.entries(segment)) {
      if (typeof value === 'string' && !found.some((p) => p.field === `segment.${key}`))
        kept[key] = value;
    }
    return kept;
  }
  return { ...(segment as Record<string, string>) };
}

export function parseIsoInstant(value: string): number | null {
  if (!ISO_INSTANT.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
