import { Type } from '@sinclair/typebox';
import type { TObject, TSchema } from '@sinclair/typebox';
import { MAX_SEGMENT_ENTRIES } from '../domain/response.js';
import { MAX_BATCH } from '../http/limits.js';
import {
  AnnotationInputSchema,
  AnnotationListQuery,
  AnnotationListSchema,
  AnnotationPath,
  AnnotationSchema,
  ImpactQuery,
  ImpactSchema,
} from '../http/schemas/annotations.js';
import {
  CaseChangeHeaders,
  CaseChangeSchema,
  CaseListQuery,
  CaseListSchema,
  CasePath,
  CaseSchema,
  CaseSummaryQuery,
  CaseSummarySchema,
  CaseWithChangesSchema,
} from '../http/schemas/cases.js';
import { ProblemSchema } from '../http/schemas/common.js';
import {
  AcceptedSchema,
  InvitationBatchResultSchema,
  InvitationBatchSchema,
  InvitationInputSchema,
  InvitationSchema,
  LinkAcceptedSchema,
  LinkFormSchema,
  LinkJsonSchema,
  LinkPath,
  LinkQuery,
  MailgunFormSchema,
  MailgunResultSchema,
  ResponseBatchSchema,
  ResponseInputSchema,
  TwilioFormSchema,
  TwilioHeaders,
  WebhookQuery,
} from '../http/schemas/ingest.js';
import {
  ErasurePath,
  ErasureSchema,
  HealthSchema,
  NotReadySchema,
  ReadySchema,
  SessionSchema,
  SignInSchema,
} from '../http/schemas/ops.js';
import {
  CompareQuery,
  CompareSchema,
  FeedQuery,
  FeedSchema,
  FunnelQuery,
  FunnelSchema,
  HistoryQuery,
  HistorySchema,
  LiveQuery,
  LiveSchema,
  ShiftSchema,
  ShiftsQuery,
  ShiftsSchema,
  SurveysSchema,
  TermsQuery,
  TermsSchema,
  ThemesHeaders,
  ThemesQuery,
  ThemesSchema,
} from '../http/schemas/read.js';
import {
  CreatedSubscriptionSchema,
  DeliveriesQuery,
  DeliveriesSchema,
  ResponseEventSchema,
  SubscriptionInputSchema,
  SubscriptionListSchema,
  SubscriptionPath,
  SubscriptionSchema,
} from '../http/schemas/subscriptions.js';
import { ChannelSchema } from '../domain/response.js';
import {
  liveSegmentParameter,
  segmentFilterParameter,
  segmentStampParameter,
} from './segment-openapi.js';

/**
 * The OpenAPI 3.1 description served at GET /openapi.json, assembled from the TypeBox schemas the
 * routes validate with (src/api/schemas, src/domain): a payload, query or header set is declared
 * there once. This file only says which operation takes and answers which, under which scope.
 */

type Scope = 'ingest' | 'read' | 'admin' | 'cases';
type Status = 200 | 201 | 202 | 204 | 303 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;
type Answer = Readonly<Record<string, unknown>>;

const PROBLEM = 'application/problem+json';

/** The error answers, each by its status: all problem+json. */
const errorRef: Partial<Record<Status, Answer>> = {
  400: { $ref: '#/components/responses/BadRequest' },
  401: { $ref: '#/components/responses/Unauthorized' },
  403: { $ref: '#/components/responses/Forbidden' },
  404: { $ref: '#/components/responses/NotFound' },
  409: { $ref: '#/components/responses/Conflict' },
  413: { $ref: '#/components/responses/ContentTooLarge' },
  415: { $ref: '#/components/responses/UnsupportedMediaType' },
  429: { $ref: '#/components/responses/TooManyRequests' },
  503: { $ref: '#/components/responses/ServiceUnavailable' },
};

function problemAnswer(description: string, headers?: Record<string, unknown>): Answer {
  return {
    description,
    ...(headers && { headers }),
    content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait.', required: true, schema: { type: 'string' } },
};

function json(description: string, schema: TSchema | Answer): Answer {
  return { description, content: { 'application/json': { schema } } };
}

function body(schema: TSchema | Answer, contentType = 'application/json'): Answer {
  return { required: true, content: { [contentType]: { schema } } };
}

/** The properties of an object schema as OpenAPI parameters `in` query, path or header. */
function parameters(where: 'query' | 'path' | 'header', schema: TObject): Answer[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, ...rest } = property as TSchema & { description?: string };
    return {
      name,
      in: where,
      ...(required.has(name) && { required: true }),
      ...(description !== undefined && { description }),
      schema: rest,
    };
  });
}

interface Operation {
  readonly summary: string;
  /** Scopes any one of which opens the operation; none: no key. */
  readonly scopes?: readonly Scope[];
  readonly query?: TObject;
  readonly path?: TObject;
  readonly headers?: TObject;
  /** Parameters no object schema can hold (`segment.<key>`). */
  readonly extra?: readonly Answer[];
  readonly requestBody?: Answer;
  /** The success answers; errors are listed by status in `errors`. */
  readonly ok: Readonly<Partial<Record<Status, Answer>>>;
  readonly errors?: readonly Status[];
}

function operation(op: Operation): Answer {
  const params = [
    ...(op.path ? parameters('path', op.path) : []),
    ...(op.query ? parameters('query', op.query) : []),
    ...(op.headers ? parameters('header', op.headers) : []),
    ...(op.extra ?? []),
  ];
  return {
    summary: op.summary,
    ...(op.scopes && { security: op.scopes.map((s) => ({ apiKey: [s] })) }),
    ...(params.length > 0 && { parameters: params }),
    ...(op.requestBody && { requestBody: op.requestBody }),
    responses: {
      ...op.ok,
      ...Object.fromEntries((op.errors ?? []).map((s) => [String(s), errorRef[s]])),
    },
  };
}

const read = ['read'] as const;
const cases = ['cases', 'admin'] as const;
const readErrors: Status[] = [400, 401, 403];
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function paths(): Record<string, Record<string, Answer>> {
  return {
    '/v1/responses': {
      post: operation({
        summary: `Record one response or a batch of up to ${MAX_BATCH}; a batch with any invalid item is refused whole.`,
        scopes: ['ingest'],
        requestBody: body({ oneOf: [ref('ResponseInput'), ResponseBatchSchema] }),
        ok: { 202: json('Durably handed to Kafka.', AcceptedSchema) },
        errors: [400, 401, 403, 413, 415, 429, 503],
      }),
    },
    '/v1/invitations': {
      post: operation({
        summary:
          'Create an invitation with signed score links (needs NPS_LINK_SECRET), recorded for the ' +
          'response-rate funnel once Kafka acknowledged it.',
        scopes: ['ingest'],
        requestBody: body(ref('InvitationInput')),
        ok: {
          201: json('The invitation.', ref('Invitation')),
          200: json(
            'A retry: the invitation first created under this invitationId.',
            ref('Invitation'),
          ),
        },
        errors: [400, 401, 403, 409, 413, 415, 429, 503],
      }),
    },
    '/v1/invitations/batch': {
      post: operation({
        summary: `Create up to ${MAX_BATCH} invitations (an SMS or email campaign); answers per item, in order. Any invalid item refuses the whole batch, naming \`[i].field\`.`,
        scopes: ['ingest'],
        requestBody: body(InvitationBatchSchema),
        ok: {
          200: json(
            'One item per invitation: created or existing (a retry) with its links, throttled ' +
              'with throttledUntil, or conflict (the invitationId names another invitation).',
            InvitationBatchResultSchema,
          ),
        },
        errors: [400, 401, 403, 413, 415, 429, 503],
      }),
    },
    '/v1/r/{token}': {
      get: operation({
        summary:
          'The answer page, score preselected; records no response (its first open is the funnel stage opened).',
        path: LinkPath,
        query: LinkQuery,
        ok: {
          200: { description: 'HTML form.', content: { 'text/html': { schema: Type.String() } } },
          404: {
            description: 'Forged, altered or expired link (an HTML page).',
            content: { 'text/html': { schema: Type.String() } },
          },
        },
      }),
      post: operation({
        summary:
          'Record the answer; responseId is the invitation id, so a second submit counts once.',
        path: LinkPath,
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: LinkFormSchema },
            'application/json': { schema: LinkJsonSchema },
          },
        },
        ok: {
          200: {
            description: 'Thank-you page (a form post).',
            content: { 'text/html': { schema: Type.String() } },
          },
          202: json('Recorded (a JSON body, or Accept preferring JSON).', LinkAcceptedSchema),
        },
        errors: [400, 404, 413, 429, 503],
      }),
    },
    '/v1/webhooks/twilio/sms': {
      post: operation({
        summary: 'Twilio inbound SMS (X-Twilio-Signature verified); replies TwiML.',
        query: WebhookQuery,
        headers: TwilioHeaders,
        extra: [segmentStampParameter],
        requestBody: body(TwilioFormSchema, 'application/x-www-form-urlencoded'),
        ok: {
          200: {
            description: 'TwiML: a thank-you, a question again, or nothing (STOP).',
            content: { 'text/xml': { schema: Type.String() } },
          },
        },
        errors: [400, 403, 413, 429, 503],
      }),
    },
    '/v1/webhooks/mailgun': {
      post: operation({
        summary: 'Mailgun inbound route (signature, 15-minute window, token replay refused).',
        query: WebhookQuery,
        extra: [segmentStampParameter],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: MailgunFormSchema },
            'multipart/form-data': { schema: MailgunFormSchema },
          },
        },
        ok: { 200: json('Whether a score was found and recorded.', MailgunResultSchema) },
        errors: [400, 403, 413, 429, 503],
      }),
    },
    '/v1/nps/live': {
      get: operation({
        summary: 'Live NPS of a sliding event-time window ending now.',
        scopes: read,
        query: LiveQuery,
        extra: [liveSegmentParameter],
        ok: { 200: json('The window.', ref('Live')) },
        errors: readErrors,
      }),
    },
    '/v1/nps/stream': {
      get: operation({
        summary:
          'Server-Sent Events: event `nps` with the live JSON when it changes (at most once a ' +
          'second), event `shift` with a Shift when the detector of the survey (or of the ' +
          'channel) finds one, heartbeat every 15 s.',
        scopes: read,
        query: LiveQuery,
        extra: [liveSegmentParameter],
        ok: {
          200: {
            description: 'The event stream; each `data:` is a Live (event nps) or a Shift.',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
        },
        errors: readErrors,
      }),
    },
    '/v1/nps/history': {
      get: operation({
        summary: 'Historical NPS in non-empty UTC buckets, in time order.',
        scopes: read,
        query: HistoryQuery,
        extra: [segmentFilterParameter],
        ok: { 200: json('The series, with the annotations of the range.', HistorySchema) },
        errors: readErrors,
      }),
    },
    '/v1/surveys': {
      get: operation({
        summary: 'The surveys that have responses, the most recently answered first.',
        scopes: read,
        ok: {
          200: json(
            'The surveys (those of the key, for a key restricted to surveys).',
            SurveysSchema,
          ),
        },
        errors: [401, 403],
      }),
    },
    '/v1/nps/feed': {
      get: operation({
        summary:
          'The latest responses of a survey, newest first: with category=detractor, who to call.',
        scopes: read,
        query: FeedQuery,
        ok: { 200: json('The responses, with comment, language and themes.', FeedSchema) },
        errors: readErrors,
      }),
    },
    '/v1/nps/compare': {
      get: operation({
        summary:
          'Did it change? The NPS of period a and of period b, their difference (b - a) with its ' +
          '95 % margin, the two-sided z-test and its p-value; significant at 95 % only when ' +
          'neither side is lowSample.',
        scopes: read,
        query: CompareQuery,
        extra: [segmentFilterParameter],
        ok: {
          200: json(
            'The comparison; difference, margin, z and pValue are null when a side is empty.',
            CompareSchema,
          ),
        },
        errors: readErrors,
      }),
    },
    '/v1/annotations': {
      post: operation({
        summary:
          'Record what changed when; an annotationId given by the client makes a retry safe ' +
          '(200 with what was stored; 409 if it differs).',
        scopes: ['admin'],
        requestBody: body(AnnotationInputSchema),
        ok: {
          201: json('Created.', AnnotationSchema),
          200: json('The same annotationId was stored before with this content.', AnnotationSchema),
        },
        errors: [400, 401, 403, 409, 413, 415],
      }),
      get: operation({
        summary: 'The annotations of a survey, oldest first (optionally in from..to).',
        scopes: read,
        query: AnnotationListQuery,
        ok: { 200: json('The annotations.', AnnotationListSchema) },
        errors: readErrors,
      }),
    },
    '/v1/annotations/{annotationId}': {
      delete: operation({
        summary: 'Delete an annotation.',
        scopes: ['admin'],
        path: AnnotationPath,
        ok: { 204: { description: 'Deleted.' } },
        errors: [400, 401, 403, 404],
      }),
    },
    '/v1/nps/impact': {
      get: operation({
        summary:
          'Did the change help? The compare result of the `days` before against the `days` ' +
          'after an annotation: overall, per channel, and per theme (the NPS of the responses ' +
          'that mention it).',
        scopes: read,
        query: ImpactQuery,
        ok: { 200: json('Before against after.', ImpactSchema) },
        errors: [400, 401, 403, 404],
      }),
    },
    '/v1/nps/themes': {
      get: operation({
        summary:
          'What customers write about, and what it costs: per theme of the taxonomy, how many ' +
          'comments mention it, the NPS of those who do and of everyone else, and the impact ' +
          '(overall NPS minus the NPS without the theme) with its 95 % margin. Most negative ' +
          'impact first. Labels in da, sv or en by Accept-Language.',
        scopes: read,
        query: ThemesQuery,
        headers: ThemesHeaders,
        ok: { 200: json('Themes, most negative impact first.', ThemesSchema) },
        errors: readErrors,
      }),
    },
    '/v1/nps/terms': {
      get: operation({
        summary:
          'Words and two-word phrases that set one category apart (weighted log-odds with an ' +
          'informative Dirichlet prior), against the other categories of the period or against ' +
          'the same category in the period before: how a new complaint shows up before the ' +
          'taxonomy knows it.',
        scopes: read,
        query: TermsQuery,
        ok: {
          200: json('The distinctive terms, most distinctive first, with counts.', TermsSchema),
        },
        errors: readErrors,
      }),
    },
    '/v1/nps/shifts': {
      get: operation({
        summary:
          'Lasting changes of the NPS level the live detectors found, newest first: of the ' +
          'survey over all channels, or with `channel` of that channel alone.',
        scopes: read,
        query: ShiftsQuery,
        ok: {
          200: json(
            'The shifts detected in the range, newest first (at most 1,000).',
            ShiftsSchema,
          ),
        },
        errors: readErrors,
      }),
    },
    '/v1/nps/funnel': {
      get: operation({
        summary:
          'Response rate of the invitations created in a range, with its Wilson 95 % interval, ' +
          'beside the NPS of those who answered.',
        scopes: read,
        query: FunnelQuery,
        extra: [
          {
            name: 'segment.<key>',
            in: 'query',
            description: `Filters as \`segment.<key>=<value>\`, any key, up to ${MAX_SEGMENT_ENTRIES}, all must match.`,
            'x-name-pattern': '^segment\\..+$',
            schema: { type: 'string' },
          },
        ],
        ok: { 200: json('The funnel.', FunnelSchema) },
        errors: readErrors,
      }),
    },
    '/v1/cases': {
      get: operation({
        summary:
          'Follow-up cases, newest first, a page at a time; a survey-restricted key sees only its surveys.',
        scopes: cases,
        query: CaseListQuery,
        ok: { 200: json('A page; nextCursor is null on the last.', CaseListSchema) },
        errors: readErrors,
      }),
    },
    '/v1/cases/summary': {
      get: operation({
        summary:
          'Cases opened in [from, to): counts per status, overdue, median time to first contact ' +
          'with its 95 % interval and n, recovery rate with its margin and n.',
        scopes: cases,
        query: CaseSummaryQuery,
        ok: { 200: json('The summary.', CaseSummarySchema) },
        errors: readErrors,
      }),
    },
    '/v1/cases/{caseId}': {
      get: operation({
        summary: 'One case with every change made to it (who, when, what).',
        scopes: cases,
        path: CasePath,
        ok: { 200: json('The case.', CaseWithChangesSchema) },
        errors: [400, 401, 403, 404],
      }),
      patch: operation({
        summary:
          'Changes status, assignee or adds a note; kept with the key name and time, published ' +
          'as case.updated. A retry with the same Idempotency-Key is kept once (the key reused ' +
          'for another change: 409); a change to the state the case has already is not kept.',
        scopes: cases,
        path: CasePath,
        headers: CaseChangeHeaders,
        requestBody: body(ref('CaseChange')),
        ok: { 200: json('The case now.', ref('Case')) },
        errors: [400, 401, 403, 404, 409, 413, 415],
      }),
    },
    '/v1/subscriptions': {
      post: operation({
        summary:
          'Subscribe a URL to events; the 201 shows the signing secret, once. The URL must be ' +
          'https and reach a public address (see NPS_WEBHOOK_ALLOW_*).',
        scopes: ['admin'],
        requestBody: body(SubscriptionInputSchema),
        ok: { 201: json('Created.', CreatedSubscriptionSchema) },
        errors: [400, 401, 403, 413, 415],
      }),
      get: operation({
        summary: 'The live subscriptions (without their secrets).',
        scopes: ['admin'],
        ok: { 200: json('The subscriptions.', SubscriptionListSchema) },
        errors: [401, 403],
      }),
    },
    '/v1/subscriptions/{id}': {
      delete: operation({
        summary: 'Delete a subscription; its queued deliveries stop within seconds.',
        scopes: ['admin'],
        path: SubscriptionPath,
        ok: { 204: { description: 'Deleted.' } },
        errors: [401, 403, 404],
      }),
    },
    '/v1/subscriptions/{id}/deliveries': {
      get: operation({
        summary: 'The latest delivery attempts, newest first (kept 30 days).',
        scopes: ['admin'],
        path: SubscriptionPath,
        query: DeliveriesQuery,
        ok: { 200: json('The attempts; status 0 when no answer came.', DeliveriesSchema) },
        errors: [400, 401, 403, 404],
      }),
    },
    '/v1/respondents/{respondentId}': {
      delete: operation({
        summary:
          'Erase a respondent (GDPR Art. 17): their responses and comments received until now are ' +
          'deleted from history, taken out of the live windows, and never counted or stored again ' +
          'when Kafka replays them. Safe to repeat. Needs an admin key not restricted to surveys.',
        scopes: ['admin'],
        path: ErasurePath,
        ok: { 200: json('Erased.', ErasureSchema) },
        errors: [400, 401, 403, 503],
      }),
    },
    '/': {
      get: operation({
        summary:
          'The live NPS dashboard (HTML). Sign in with an API key of the read scope or more.',
        ok: {
          200: { description: 'The page.', content: { 'text/html': { schema: Type.String() } } },
        },
        errors: [503],
      }),
    },
    '/session': {
      get: operation({
        summary: 'Whether this browser is signed in to the dashboard, and until when.',
        ok: { 200: json('The session.', SessionSchema) },
      }),
      post: operation({
        summary:
          'Dashboard sign-in: form or JSON {apiKey} from this site only (Origin checked). Sets a ' +
          'signed, HttpOnly, SameSite=Strict session cookie that opens the read endpoints only; ' +
          'the key itself is not kept in the page or the cookie.',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: SignInSchema },
            'application/x-www-form-urlencoded': { schema: SignInSchema },
          },
        },
        ok: {
          200: json('Signed in (JSON).', SessionSchema),
          303: { description: 'Signed in from the HTML form: to /.' },
          // Not a bearer challenge: the key came in the body.
          401: problemAnswer('Unknown API key.'),
        },
        errors: [400, 403, 413, 429],
      }),
      delete: operation({
        summary: 'Dashboard sign-out: clears the session cookie.',
        ok: { 204: { description: 'Signed out.' } },
        errors: [403],
      }),
    },
    '/healthz': {
      get: operation({ summary: 'Liveness.', ok: { 200: json('Alive.', HealthSchema) } }),
    },
    '/readyz': {
      get: operation({
        summary: 'Readiness; 503 naming what is unreachable.',
        ok: {
          200: json('Ready.', ReadySchema),
          503: {
            description: 'Not ready.',
            headers: retryAfter,
            content: { [PROBLEM]: { schema: NotReadySchema } },
          },
        },
      }),
    },
    '/metrics': {
      get: operation({
        summary: 'Prometheus metrics.',
        ok: {
          200: {
            description: 'Prometheus text format.',
            content: { 'text/plain': { schema: Type.String() } },
          },
        },
      }),
    },
    '/openapi.json': {
      get: operation({
        summary: 'This document.',
        ok: { 200: json('OpenAPI 3.1.', Type.Object({ openapi: Type.Literal('3.1.0') })) },
      }),
    },
  };
}

export function openApiDocument(publicBaseUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'nps-pipeline',
      version: '1',
      description: 'Net Promoter Score ingest (web, SMS, email) and live and historical scores.',
    },
    servers: [{ url: publicBaseUrl }],
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An NPS_API_KEYS key. Its scopes: ingest (write responses and invitations), read ' +
            '(scores, feeds, themes; the dashboard), cases (follow-up cases), admin (annotations, ' +
            'cases, webhook subscriptions, erasure), sql (the SQL endpoint, on its own port). ' +
            'A key restricted to surveys sees only those.',
        },
      },
      schemas: {
        Channel: ChannelSchema,
        ResponseInput: ResponseInputSchema,
        InvitationInput: InvitationInputSchema,
        Invitation: InvitationSchema,
        Live: LiveSchema,
        Shift: ShiftSchema,
        Case: CaseSchema,
        CaseChange: CaseChangeSchema,
        Subscription: SubscriptionSchema,
        ResponseEvent: ResponseEventSchema,
        Problem: ProblemSchema,
      },
      responses: {
        BadRequest: problemAnswer(
          'Invalid request: `errors` names each field (`[i].field` in a batch) and its rule.',
        ),
        Unauthorized: problemAnswer('No or an unknown API key.', {
          'WWW-Authenticate': { required: true, schema: { type: 'string', const: 'Bearer' } },
        }),
        Forbidden: problemAnswer(
          'The key lacks the scope or the survey, or a signature does not match.',
        ),
        NotFound: problemAnswer('No such item.'),
        Conflict: {
          description:
            'In conflict with what is stored. An invitation: the respondent was invited or ' +
            'answered within NPS_RECONTACT_DAYS (member `throttledUntil`), or the invitationId ' +
            'names another invitation.',
          content: {
            [PROBLEM]: {
              schema: {
                allOf: [
                  { $ref: '#/components/schemas/Problem' },
                  {
                    type: 'object',
                    properties: { throttledUntil: { type: 'string', format: 'date-time' } },
                  },
                ],
              },
            },
          },
        },
        ContentTooLarge: problemAnswer('The body is over the limit of the operation.'),
        UnsupportedMediaType: problemAnswer('The body is not (UTF-8) JSON.'),
        TooManyRequests: problemAnswer(
          'Over NPS_RATE_LIMIT_PER_KEY (ingest) or NPS_RATE_LIMIT_PER_IP (failed authentications).',
          retryAfter,
        ),
        ServiceUnavailable: problemAnswer(
          'A dependency (Kafka, Redis, ClickHouse) does not answer: nothing was recorded, retry.',
          retryAfter,
        ),
      },
    },
    paths: paths(),
  };
}
