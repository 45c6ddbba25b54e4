import { EVENT_TYPES } from './types.js';
import { FORMATS } from './subscriptions.js';

/** The webhook subscription endpoints and the event payloads, for the OpenAPI document. */

const problem = { $ref: '#/components/responses/Problem' };
const admin = [{ apiKey: ['admin'] }];
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const subscriptionProperties = {
  subscriptionId: { type: 'string' },
  url: { type: 'string', format: 'uri' },
  events: { type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] } },
  surveyId: { type: ['string', 'null'] },
  format: { type: 'string', enum: [...FORMATS] },
  createdAt: { type: 'string', format: 'date-time' },
};

export const schemas = {
  Subscription: {
    type: 'object',
    required: Object.keys(subscriptionProperties),
    properties: subscriptionProperties,
  },
  ResponseEvent: {
    type: 'object',
    description:
      'Body of a response.created or response.detractor webhook (format standard), signed to the ' +
      'Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature).',
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { type: 'string', enum: ['response.created', 'response.detractor'] },
      timestamp: { type: 'string', format: 'date-time' },
      data: {
        type: 'object',
        properties: {
          responseId: { type: 'string' },
          surveyId: { type: 'string' },
          channel: { $ref: '#/components/schemas/Channel' },
          score: { type: 'integer', minimum: 0, maximum: 10 },
          category: { type: 'string', enum: ['promoter', 'passive', 'detractor'] },
          comment: { type: ['string', 'null'] },
          language: { type: ['string', 'null'] },
          themes: { type: 'array', items: { type: 'string' } },
          respondentId: { type: ['string', 'null'], description: 'Pseudonym.' },
          segment: { type: 'object', additionalProperties: { type: 'string' } },
          respondedAt: { type: 'string', format: 'date-time' },
          caseId: { type: ['string', 'null'] },
        },
      },
    },
  },
};

export const paths = {
  '/v1/subscriptions': {
    post: {
      summary:
        'Subscribe a URL to events ({url, events, surveyId?, format?}); the 201 shows the signing ' +
        'secret, once. The URL must be https and reach a public address (see NPS_WEBHOOK_ALLOW_*).',
      security: admin,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['url', 'events'],
              additionalProperties: false,
              properties: {
                url: { type: 'string', maxLength: 2048 },
                events: subscriptionProperties.events,
                surveyId: { type: ['string', 'null'], pattern: '^[A-Za-z0-9._-]{1,64}$' },
                format: { type: 'string', enum: [...FORMATS], default: 'standard' },
              },
            },
          },
        },
      },
      responses: {
        '201': {
          description: 'Created.',
          content: {
            'application/json': {
              schema: {
                allOf: [
                  { $ref: '#/components/schemas/Subscription' },
                  {
                    type: 'object',
                    required: ['secret'],
                    properties: { secret: { type: 'string', pattern: '^whsec_' } },
                  },
                ],
              },
            },
          },
        },
        '400': problem,
        '401': problem,
        '403': problem,
        '415': problem,
      },
    },
    get: {
      summary: 'The live subscriptions (without their secrets).',
      security: admin,
      responses: {
        '200': {
          description: '{subscriptions: [...]}',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  subscriptions: {
                    type: 'array',
                    items: { $ref: '#/components/schemas/Subscription' },
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
  '/v1/subscriptions/{id}': {
    delete: {
      summary: 'Delete a subscription; its queued deliveries stop within seconds.',
      security: admin,
      parameters: [idParam],
      responses: { '204': { description: 'Deleted.' }, '401': problem, '404': problem },
    },
  },
  '/v1/subscriptions/{id}/deliveries': {
    get: {
      summary: 'The latest delivery attempts, newest first (kept 30 days).',
      security: admin,
      parameters: [
        idParam,
        {
          name: 'limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      ],
      responses: {
        '200': {
          description:
            '{subscriptionId, deliveries: [{eventId, webhookId, eventType, attempt, status, ' +
            'outcome, latencyMs, error, attemptedAt}]}; status 0 when no answer came.',
        },
        '400': problem,
        '401': problem,
        '404': problem,
      },
    },
  },
};
