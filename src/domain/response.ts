import { maskContacts } from '../themes/mask.js';
import { isScore } from './classification.js';

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
export const MAX_COMMENT_LENGTH = 5000;
export const MAX_SEGMENT_ENTRIES = 10;
export const MAX_SEGMENT_KEY = 64;
export const MAX_SEGMENT_VALUE = 256;

/** One problem with one field of the input: `field` is a JSON pointer-like path ("score", "[3].score"). */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export type Validated<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Text we store must be valid Unicode without control characters other than newline and tab.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]|[\ud800-\udfff]/u;

/** Control characters and lone surrogates: never accepted in a text field. */
export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

function text(
  problems: FieldProblem[],
  field: string,
  value: unknown,
  max: number,
): string | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.push({ field, message: 'must be a string' });
    return undefined;
  }
  if (value.length > max) problems.push({ field, message: `must be at most ${max} characters` });
  else if (CONTROL.test(value))
    problems.push({ field, message: 'must not contain control characters' });
  return value;
}

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

const KNOWN_FIELDS = new Set([
  'surveyId',
  'score',
  'comment',
  'responseId',
  'respondentId',
  'respondedAt',
  'channel',
  'locale',
  'segment',
]);

/** Checks one `POST /v1/responses` item; `now` bounds respondedAt (at most 5 minutes ahead). */
export function validateResponseInput(
  input: unknown,
  now: number,
  path = '',
): Validated<ResponseInput> {
  const problems: FieldProblem[] = [];
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  if (!isRecord(input)) {
    return {
      ok: false,
      problems: [{ field: path === '' ? '(body)' : path, message: 'must be a JSON object' }],
    };
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) problems.push({ field: at(key), message: 'is not a known field' });
  }
  const { surveyId, score, channel, respondedAt, segment } = input;
  if (typeof surveyId !== 'string' || !SURVEY_ID.test(surveyId)) {
    problems.push({ field: at('surveyId'), message: SURVEY_ID_MESSAGE });
  }
  if (!isScore(score))
    problems.push({ field: at('score'), message: 'must be an integer from 0 to 10' });
  const comment = text(problems, at('comment'), input.comment, MAX_COMMENT_LENGTH);
  const responseId = text(problems, at('responseId'), input.responseId, 200);
  if (typeof responseId === 'string' && !RESPONSE_ID.test(responseId)) {
    problems.push({ field: at('responseId'), message: 'must be 1-200 printable ASCII characters' });
  }
  const respondentId = text(problems, at('respondentId'), input.respondentId, 320);
  const locale = text(problems, at('locale'), input.locale, 35);
  if (typeof locale === 'string' && !LOCALE.test(locale)) {
    problems.push({
      field: at('locale'),
      message: 'must be a BCP 47 language tag such as da, sv or en-GB',
    });
  }
  if (channel !== undefined && !(CHANNELS as readonly unknown[]).includes(channel)) {
    problems.push({ field: at('channel'), message: `must be one of ${CHANNELS.join(', ')}` });
  }
  let respondedAtMs: number | null = null;
  if (respondedAt !== undefined && respondedAt !== null) {
    respondedAtMs = typeof respondedAt === 'string' ? parseIsoInstant(respondedAt) : null;
    if (respondedAtMs === null) {
      problems.push({
        field: at('respondedAt'),
        message: 'must be an ISO-8601 date-time with a time zone',
      });
    } else if (respondedAtMs > now + MAX_FUTURE_MS) {
      problems.push({
        field: at('respondedAt'),
        message: 'must not be more than 5 minutes in the future',
      });
    } else if (respondedAtMs < Date.UTC(2000, 0, 1)) {
      problems.push({ field: at('respondedAt'), message: 'must not be before 2000-01-01' });
    }
  }
  const segmentValue =
    segment === undefined || segment === null ? {} : validateSegment(segment, problems, at);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      surveyId: surveyId as string,
      score: score as number,
      comment:
        comment === null || comment === undefined || comment.trim() === '' ? null : comment.trim(),
      responseId: responseId ?? null,
      respondentId: respondentId ?? null,
      respondedAt: respondedAtMs,
      channel: (channel as Channel | undefined) ?? 'web',
      locale: locale ?? null,
      segment: segmentValue,
    },
  };
}

/**
 * Checks a response's segment map (the JSON API's `segment`, a webhook route's `segment.<key>`
 * query parameters): at most MAX_SEGMENT_ENTRIES keys of 1-64 characters, each a string value of
 * at most 256, no control characters. Problems name `segment` or `segment.<key>` through `at`.
 */
export function validateSegment(
  segment: unknown,
  problems: FieldProblem[],
  at: (field: string) => string = (field) => field,
): Record<string, string> {
  const segmentValue: Record<string, string> = {};
  if (!isRecord(segment)) {
    problems.push({ field: at('segment'), message: 'must be an object of strings' });
    return segmentValue;
  }
  const entries = Object.entries(segment);
  if (entries.length > MAX_SEGMENT_ENTRIES) {
    problems.push({
      field: at('segment'),
      message: `must have at most ${MAX_SEGMENT_ENTRIES} entries`,
    });
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_SEGMENT_KEY || CONTROL.test(key)) {
      problems.push({
        field: at(`segment.${key}`),
        message: `key must be 1-${MAX_SEGMENT_KEY} characters`,
      });
    } else if (
      typeof value !== 'string' ||
      value.length > MAX_SEGMENT_VALUE ||
      CONTROL.test(value)
    ) {
      problems.push({
        field: at(`segment.${key}`),
        message: `must be a string of at most ${MAX_SEGMENT_VALUE} characters`,
      });
    } else {
      segmentValue[key] = value;
    }
  }
  return segmentValue;
}

// Date-time with an explicit zone (Z or +hh:mm); a zoneless time would be read in the server's zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function parseIsoInstant(value: string): number | null {
  if (!ISO_INSTANT.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
