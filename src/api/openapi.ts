import { SHIFT_EVENT_SCHEMA } from '../domain/shift-event.js';
import { MAX_BATCH } from './limits.js';
import {
  liveSegmentParameter,
  liveSegmentProperties,
  segmentFilterParameter,
  segmentStampParameter,
} from './segment-openapi.js';
import { invitationPaths, invitationSchemas } from './invitations-openapi.js';
import { paths as casePaths, schemas as caseSchemas } from './case-openapi.js';
import { paths as webhookPaths, schemas as webhookSchemas } from '../events/openapi.js';

/** The OpenAPI 3.1 description served at GET /openapi.json. */

const problem = { $ref: '#/components/responses/Problem' };
const surveyId = {
  name: 'surveyId',
  in: 'query',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
};
const channelParam = {
  name: 'channel',
  in: 'query',
  schema: { $ref: '#/components/schemas/Channel' },
};
const windowParam = {
  name: 'window',
  in: 'query',
  schema: { type: 'string', enum: ['15m', '1h', '24h', '7d', '30d'], default: '24h' },
};
const dateTime = { type: 'string', format: 'date-time' };
/** `from` (required) and `to` (default: now), as every read over a time range takes them. */
const range = [
  { name: 'from', in: 'query', required: true, schema: dateTime },
  { name: 'to', in: 'query', schema: dateTime },
];
const read = [{ apiKey: ['read'] }];
const ingest = [{ apiKey: ['ingest'] }];
const admin = [{ apiKey: ['admin'] }];

const score = {
  type: 'object',
  required: [
    'responses',
    'promoters',
    'passives',
    'detractors',
    'nps',
    'marginOfError',
    'lowSample',
  ],
  properties: {
    responses: { type: 'integer', description: 'Sample size n.' },
    promoters: { type: 'integer' },
    passives: { type: 'integer' },
    detractors: { type: 'integer' },
    nps: {
      type: ['number', 'null'],
      description: '% promoters - % detractors, one decimal; null when n = 0.',
    },
    marginOfError: {
      type: ['number', 'null'],
      description:
        '95 % margin in NPS points: 100*1.96*sqrt((p+d-(p-d)^2)/n), one decimal; null when n = 0.',
    },
    lowSample: {
      type: 'boolean',
      description:
        'n is below NPS_MIN_RESPONSES (default 30): too few answers to read the score by.',
    },
  },
};

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
          description: 'NPS_API_KEYS key with scope ingest or read.',
        },
      },
      schemas: {
        ...caseSchemas,
        Channel: { type: 'string', enum: ['web', 'sms', 'email'] },
        ...webhookSchemas,
        ResponseInput: {
          type: 'object',
          required: ['surveyId', 'score'],
          additionalProperties: false,
          properties: {
            surveyId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
            score: { type: 'integer', minimum: 0, maximum: 10 },
            comment: { type: ['string', 'null'], maxLength: 5000 },
            responseId: {
              type: ['string', 'null'],
              description: 'Deduplication key; a UUID when absent.',
            },
            respondentId: { type: ['string', 'null'] },
            respondedAt: {
              type: ['string', 'null'],
              format: 'date-time',
              description: 'Default now; at most 5 minutes ahead.',
            },
            channel: { $ref: '#/components/schemas/Channel' },
            locale: { type: ['string', 'null'], examples: ['da', 'sv', 'en-GB'] },
            segment: {
              type: 'object',
              maxProperties: 10,
              additionalProperties: { type: 'string', maxLength: 256 },
            },
          },
        },
        Live: {
          allOf: [
            score,
            {
              type: 'object',
              properties: {
                surveyId: { type: 'string' },
                channel: { oneOf: [{ $ref: '#/components/schemas/Channel' }, { type: 'null' }] },
                window: { type: 'string' },
                from: { type: 'string', format: 'date-time' },
                to: { type: 'string', format: 'date-time' },
                ...liveSegmentProperties,
              },
            },
          ],
        },
        ...invitationSchemas,
        Shift: {
          ...SHIFT_EVENT_SCHEMA,
          description:
            'A lasting change of the NPS level found by the live detector (event `nps.shift`).',
        },
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem details.',
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
      responses: {
        Problem: {
          description: 'An error, as application/problem+json.',
          content: {
            'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
          },
        },
      },
    },
    paths: {
      ...casePaths,
      ...webhookPaths,
      '/v1/responses': {
        post: {
          summary: `Record one response or a batch of up to ${MAX_BATCH}; a batch with any invalid item is refused whole.`,
          security: ingest,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/ResponseInput' },
                    {
                      type: 'array',
                      minItems: 1,
                      maxItems: MAX_BATCH,
                      items: { $ref: '#/components/schemas/ResponseInput' },
                    },
                  ],
                },
              },
            },
          },
          responses: {
            '202': {
              description: 'Durably handed to Kafka.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      accepted: { type: 'integer' },
                      responseIds: { type: 'array', items: { type: 'string' } },
                    },
                  },
                },
              },
            },
            '400': problem,
            '401': problem,
            '403': problem,
            '413': problem,
            '415': problem,
            '503': problem,
          },
        },
      },
      ...invitationPaths,
      '/v1/r/{token}': {
        parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          summary:
            'The answer page, score preselected; records no response (its first open is the funnel stage opened).',
          parameters: [
            { name: 'score', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 10 } },
          ],
          responses: {
            '200': { description: 'HTML form.' },
            '404': { description: 'Forged, altered or expired link.' },
          },
        },
        post: {
          summary:
            'Record the answer; responseId is the invitation id, so a second submit counts once.',
          requestBody: {
            content: {
              'application/x-www-form-urlencoded': {
                schema: {
                  type: 'object',
                  properties: { score: { type: 'string' }, comment: { type: 'string' } },
                },
              },
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { score: { type: 'integer' }, comment: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            '200': { description: 'Thank-you page.' },
            '202': { description: '{"responseId"} for JSON clients.' },
            '400': problem,
            '404': problem,
          },
        },
      },
      '/v1/webhooks/twilio/sms': {
        post: {
          summary: 'Twilio inbound SMS (X-Twilio-Signature verified); replies TwiML.',
          parameters: [surveyId, segmentStampParameter],
          responses: {
            '200': { description: 'TwiML.' },
            '400': problem,
            '403': problem,
            '503': problem,
          },
        },
      },
      '/v1/webhooks/mailgun': {
        post: {
          summary: 'Mailgun inbound route (signature, 15-minute window, token replay refused).',
          parameters: [surveyId, segmentStampParameter],
          responses: {
            '200': { description: '{"recorded": boolean}' },
            '400': problem,
            '403': problem,
            '503': problem,
          },
        },
      },
      '/v1/nps/live': {
        get: {
          summary: 'Live NPS of a sliding event-time window ending now.',
          security: read,
          parameters: [surveyId, windowParam, channelParam, liveSegmentParameter],
          responses: {
            '200': {
              description: 'The window.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Live' } } },
            },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/nps/stream': {
        get: {
          summary:
            'Server-Sent Events: event `nps` with the live JSON when it changes (at most once a ' +
            'second), event `shift` with a Shift when the detector of the survey (or of the ' +
            'channel) finds one, heartbeat every 15 s.',
          security: read,
          parameters: [surveyId, windowParam, channelParam, liveSegmentParameter],
          responses: {
            '200': { description: 'text/event-stream' },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/nps/history': {
        get: {
          summary: 'Historical NPS in non-empty UTC buckets, in time order.',
          security: read,
          parameters: [
            surveyId,
            ...range,
            {
              name: 'interval',
              in: 'query',
              schema: { type: 'string', enum: ['hour', 'day', 'week', 'month'], default: 'day' },
            },
            { name: 'groupBy', in: 'query', schema: { type: 'string', enum: ['channel'] } },
            segmentFilterParameter,
          ],
          responses: {
            '200': { description: 'The series.' },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/surveys': {
        get: {
          summary: 'The surveys that have responses, the most recently answered first.',
          security: read,
          responses: {
            '200': {
              description: 'The surveys (those of the key, for a key restricted to surveys).',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      surveys: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            surveyId: { type: 'string' },
                            responses: { type: 'integer' },
                            lastResponseAt: { type: 'string', format: 'date-time' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/nps/feed': {
        get: {
          summary:
            'The latest responses of a survey, newest first: with category=detractor, who to call.',
          security: read,
          parameters: [
            surveyId,
            channelParam,
            {
              name: 'category',
              in: 'query',
              schema: { type: 'string', enum: ['detractor', 'passive', 'promoter'] },
            },
            {
              name: 'from',
              in: 'query',
              description: 'Default: 30 days before now.',
              schema: { type: 'string', format: 'date-time' },
            },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            },
          ],
          responses: {
            '200': { description: 'The responses, with comment, language and themes.' },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/nps/compare': {
        get: {
          summary:
            'Did it change? The NPS of period a and of period b, their difference (b - a) with its ' +
            '95 % margin, the two-sided z-test and its p-value; significant at 95 % only when ' +
            'neither side is lowSample.',
          security: read,
          parameters: [
            surveyId,
            channelParam,
            ...['aFrom', 'aTo', 'bFrom', 'bTo'].map((name) => ({
              name,
              in: 'query',
              required: true,
              schema: { type: 'string', format: 'date-time' },
            })),
            segmentFilterParameter,
          ],
          responses: {
            '200': {
              description:
                'The comparison; difference, margin, z and pValue are null when a side is empty.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      surveyId: { type: 'string' },
                      segment: liveSegmentProperties.segment,
                      a: score,
                      b: score,
                      difference: { type: ['number', 'null'] },
                      differenceMarginOfError: { type: ['number', 'null'] },
                      z: { type: ['number', 'null'] },
                      pValue: { type: ['number', 'null'] },
                      significant: { type: 'boolean' },
                    },
                  },
                },
              },
            },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/annotations': {
        post: {
          summary:
            'Record what changed when ({surveyId, at, label, annotationId?}); an annotationId ' +
            'given by the client makes a retry safe (200 with what was stored; 409 if it differs).',
          security: admin,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['surveyId', 'at', 'label'],
                  additionalProperties: false,
                  properties: {
                    surveyId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
                    at: { type: 'string', format: 'date-time' },
                    label: { type: 'string', minLength: 1, maxLength: 200 },
                    annotationId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
                  },
                },
              },
            },
          },
          responses: {
            '201': {
              description: 'Created: {annotationId, surveyId, at, label, createdBy, createdAt}.',
            },
            '200': { description: 'The same annotationId was stored before with this content.' },
            '400': problem,
            '401': problem,
            '403': problem,
            '409': problem,
            '415': problem,
          },
        },
        get: {
          summary: 'The annotations of a survey, oldest first (optionally in from..to).',
          security: read,
          parameters: [
            surveyId,
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
          ],
          responses: {
            '200': { description: '{surveyId, annotations}' },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/annotations/{annotationId}': {
        delete: {
          summary: 'Delete an annotation.',
          security: admin,
          parameters: [
            {
              name: 'annotationId',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
            },
          ],
          responses: {
            '204': { description: 'Deleted.' },
            '400': problem,
            '401': problem,
            '403': problem,
            '404': problem,
          },
        },
      },
      '/v1/nps/impact': {
        get: {
          summary:
            'Did the change help? The compare result of the `days` before against the `days` ' +
            'after an annotation: overall, per channel, and per theme (the NPS of the responses ' +
            'that mention it).',
          security: read,
          parameters: [
            { name: 'annotationId', in: 'query', required: true, schema: { type: 'string' } },
            {
              name: 'days',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 365, default: 14 },
            },
          ],
          responses: {
            '200': { description: '{annotation, days, before, after, overall, channels, themes}' },
            '400': problem,
            '401': problem,
            '403': problem,
            '404': problem,
          },
        },
      },
      '/v1/nps/themes': {
        get: {
          summary:
            'What customers write about, and what it costs: per theme of the taxonomy, how many ' +
            'comments mention it, the NPS of those who do and of everyone else, and the impact ' +
            '(overall NPS minus the NPS without the theme) with its 95 % margin. Most negative ' +
            'impact first. Labels in da, sv or en by Accept-Language.',
          security: read,
          parameters: [
            surveyId,
            ...range,
            {
              name: 'channel',
              in: 'query',
              schema: { type: 'string', enum: ['web', 'sms', 'email'] },
            },
            { name: 'Accept-Language', in: 'header', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'Themes, most negative impact first.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      surveyId: { type: 'string' },
                      from: { type: 'string', format: 'date-time' },
                      to: { type: 'string', format: 'date-time' },
                      taxonomyVersion: { type: 'string' },
                      responses: { type: 'integer' },
                      commented: { type: 'integer' },
                      nps: { type: ['number', 'null'] },
                      marginOfError: { type: ['number', 'null'] },
                      themes: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            theme: { type: 'string' },
                            label: { type: 'string' },
                            mentions: { type: 'integer' },
                            promoters: { type: 'integer' },
                            passives: { type: 'integer' },
                            detractors: { type: 'integer' },
                            lowSample: { type: 'boolean' },
                            npsWith: { type: ['number', 'null'] },
                            npsWithout: { type: ['number', 'null'] },
                            impact: { type: ['number', 'null'] },
                            impactMarginOfError: { type: ['number', 'null'] },
                            examples: {
                              type: 'array',
                              maxItems: 3,
                              items: {
                                type: 'object',
                                properties: {
                                  responseId: { type: 'string' },
                                  score: { type: 'integer' },
                                  comment: { type: 'string' },
                                  language: { type: ['string', 'null'] },
                                  respondedAt: { type: 'string', format: 'date-time' },
                                },
                              },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/nps/shifts': {
        get: {
          summary:
            'Lasting changes of the NPS level the live detectors found, newest first: of the ' +
            'survey over all channels, or with `channel` of that channel alone.',
          security: read,
          parameters: [
            surveyId,
            {
              name: 'from',
              in: 'query',
              required: true,
              schema: { type: 'string', format: 'date-time' },
            },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
            channelParam,
          ],
          responses: {
            '200': {
              description: 'The shifts detected in the range, newest first (at most 1,000).',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      surveyId: { type: 'string' },
                      channel: { $ref: '#/components/schemas/Channel' },
                      from: { type: 'string', format: 'date-time' },
                      to: { type: 'string', format: 'date-time' },
                      shifts: { type: 'array', items: { $ref: '#/components/schemas/Shift' } },
                    },
                  },
                },
              },
            },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/nps/terms': {
        get: {
          summary:
            'Words and two-word phrases that set one category apart (weighted log-odds with an ' +
            'informative Dirichlet prior), against the other categories of the period or against ' +
            'the same category in the period before: how a new complaint shows up before the ' +
            'taxonomy knows it.',
          security: read,
          parameters: [
            surveyId,
            ...range,
            {
              name: 'channel',
              in: 'query',
              schema: { type: 'string', enum: ['web', 'sms', 'email'] },
            },
            {
              name: 'category',
              in: 'query',
              schema: {
                type: 'string',
                enum: ['detractor', 'passive', 'promoter'],
                default: 'detractor',
              },
            },
            {
              name: 'compareTo',
              in: 'query',
              schema: { type: 'string', enum: ['others', 'previous'], default: 'others' },
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            },
          ],
          responses: {
            '200': { description: 'The distinctive terms, most distinctive first, with counts.' },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
      },
      '/v1/respondents/{respondentId}': {
        delete: {
          summary:
            'Erase a respondent (GDPR Art. 17): their responses and comments received until now are ' +
            'deleted from history, taken out of the live windows, and never counted or stored again ' +
            'when Kafka replays them. Safe to repeat. Needs an admin key not restricted to surveys.',
          security: admin,
          parameters: [
            {
              name: 'respondentId',
              in: 'path',
              required: true,
              description:
                'The respondentId as sent at ingest: an email or phone number (pseudonymized here the ' +
                'same way), or an opaque id.',
              schema: { type: 'string', minLength: 1, maxLength: 320 },
            },
          ],
          responses: {
            '200': {
              description: 'Erased.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      respondentId: {
                        type: 'string',
                        description: 'The stored (pseudonymous) respondent id.',
                      },
                      erasedBefore: {
                        type: 'string',
                        format: 'date-time',
                        description: 'Responses received up to this instant are erased.',
                      },
                      historyResponsesDeleted: { type: 'integer' },
                      liveResponsesRemoved: {
                        type: 'integer',
                        description: 'Of those, the ones still inside a live window (30 days).',
                      },
                      invitationsDeleted: {
                        type: 'integer',
                        description: 'Invitations of the respondent (each with its funnel stages).',
                      },
                      recontactMarksDeleted: {
                        type: 'integer',
                        description:
                          'Recontact marks (0 or 1): the respondent may be invited again.',
                      },
                      casesDeleted: {
                        type: 'integer',
                        description: 'Follow-up cases of the respondent, with their changes.',
                      },
                    },
                  },
                },
              },
            },
            '400': problem,
            '401': problem,
            '403': problem,
            '503': problem,
          },
        },
      },
      '/': {
        get: {
          summary:
            'The live NPS dashboard (HTML). Sign in with an API key of the read scope or more.',
          responses: { '200': { description: 'text/html' } },
        },
      },
      '/session': {
        get: {
          summary: 'Whether this browser is signed in to the dashboard, and until when.',
          responses: { '200': { description: '{signedIn, surveys?, expiresAt?, segmentKeys?}' } },
        },
        post: {
          summary:
            'Dashboard sign-in: form or JSON {apiKey} from this site only (Origin checked). Sets a ' +
            'signed, HttpOnly, SameSite=Strict session cookie that opens the read endpoints only; ' +
            'the key itself is not kept in the page or the cookie.',
          responses: {
            '200': { description: 'Signed in (JSON); a form post is redirected to / (303).' },
            '303': { description: 'Signed in from the HTML form.' },
            '400': problem,
            '401': problem,
            '403': problem,
          },
        },
        delete: {
          summary: 'Dashboard sign-out: clears the session cookie.',
          responses: { '204': { description: 'Signed out.' }, '403': problem },
        },
      },
      '/healthz': { get: { summary: 'Liveness.', responses: { '200': { description: 'ok' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness; 503 naming what is unreachable.',
          responses: { '200': { description: 'ready' }, '503': problem },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics.',
          responses: { '200': { description: 'text/plain' } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document.', responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}
