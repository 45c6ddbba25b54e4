import { MAX_BATCH } from './limits.js';

/**
 * OpenAPI 3.1 of invitations, the batch and the response-rate funnel, spread into
 * openapi.ts (paths and component schemas).
 */

const problem = { $ref: '#/components/responses/Problem' };
const ingest = [{ apiKey: ['ingest'] }];
const read = [{ apiKey: ['read'] }];
const dateTime = { type: 'string', format: 'date-time' };
const json = (schema: unknown) => ({ 'application/json': { schema } });

export const invitationSchemas = {
  InvitationInput: {
    type: 'object',
    required: ['surveyId', 'channel'],
    additionalProperties: false,
    properties: {
      surveyId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
      channel: { $ref: '#/components/schemas/Channel' },
      respondentId: {
        type: ['string', 'null'],
        maxLength: 320,
        description:
          'Emails and phone numbers are pseudonymized (NPS_PSEUDONYM_KEY) before anything keeps ' +
          'them; with a respondent the recontact window applies.',
      },
      invitationId: {
        type: ['string', 'null'],
        pattern: '^[\\x21-\\x7e]{1,200}$',
        description:
          'Makes a retry safe: the same id with the same content returns the same invitation ' +
          '(same token); a UUID when absent. A response through the link has it as responseId.',
      },
      segment: {
        type: 'object',
        maxProperties: 10,
        additionalProperties: { type: 'string', maxLength: 256 },
        description: 'Signed into the token; a response through the link carries it.',
      },
    },
  },
  Invitation: {
    type: 'object',
    required: ['invitationId', 'token', 'url', 'expiresAt', 'scoreUrls'],
    properties: {
      invitationId: { type: 'string' },
      token: { type: 'string' },
      url: { type: 'string', description: 'The answer page, GET /v1/r/{token}.' },
      expiresAt: { ...dateTime, description: '30 days after the first creation.' },
      scoreUrls: { type: 'array', items: { type: 'string' }, minItems: 11, maxItems: 11 },
    },
  },
  Funnel: {
    type: 'object',
    required: ['surveyId', 'from', 'to', 'stages', 'responseRate', 'responders'],
    properties: {
      surveyId: { type: 'string' },
      channel: { $ref: '#/components/schemas/Channel' },
      segment: { type: 'object', additionalProperties: { type: 'string' } },
      from: dateTime,
      to: dateTime,
      stages: {
        type: 'object',
        description:
          'Invitations created in the range, each counted once per stage it reached: opened is ' +
          'the first GET of the link (mail scanners included); responded is an answer by ' +
          "invitation id, or the respondent's first answer in the survey and channel within the " +
          "link's lifetime; commented is that answer with a comment.",
        required: ['invited', 'opened', 'responded', 'commented'],
        properties: {
          invited: { type: 'integer' },
          opened: { type: 'integer' },
          responded: { type: 'integer' },
          commented: { type: 'integer' },
        },
      },
      responseRate: {
        type: 'object',
        required: ['rate', 'low', 'high', 'marginOfError', 'invited', 'lowSample'],
        properties: {
          rate: {
            type: ['number', 'null'],
            description: 'responded / invited in percent, one decimal; null without invitations.',
          },
          low: {
            type: ['number', 'null'],
            description: 'Lower bound of the Wilson 95 % interval, percent.',
          },
          high: {
            type: ['number', 'null'],
            description: 'Upper bound of the Wilson 95 % interval, percent.',
          },
          marginOfError: {
            type: ['number', 'null'],
            description: 'Half the width of the interval, percentage points.',
          },
          invited: { type: 'integer', description: 'Sample size n.' },
          lowSample: { type: 'boolean', description: 'n is below NPS_MIN_RESPONSES.' },
        },
      },
      responders: {
        $ref: '#/components/schemas/Live',
        description:
          'The NPS (with n and margin) of the answers that responded to these invitations.',
      },
    },
  },
};

const throttled = {
  description:
    'The respondent was invited or answered within NPS_RECONTACT_DAYS (problem member ' +
    '`throttledUntil`, ISO time), or the invitationId names another invitation.',
  content: {
    'application/problem+json': {
      schema: {
        allOf: [
          { $ref: '#/components/schemas/Problem' },
          { type: 'object', properties: { throttledUntil: dateTime } },
        ],
      },
    },
  },
};

export const invitationPaths = {
  '/v1/invitations': {
    post: {
      summary:
        'Create an invitation with signed score links (needs NPS_LINK_SECRET), recorded for the ' +
        'response-rate funnel once Kafka acknowledged it.',
      security: ingest,
      requestBody: {
        required: true,
        content: json({ $ref: '#/components/schemas/InvitationInput' }),
      },
      responses: {
        '201': {
          description: 'The invitation.',
          content: json({ $ref: '#/components/schemas/Invitation' }),
        },
        '200': {
          description: 'A retry: the invitation first created under this invitationId.',
          content: json({ $ref: '#/components/schemas/Invitation' }),
        },
        '400': problem,
        '401': problem,
        '403': problem,
        '409': throttled,
        '503': problem,
      },
    },
  },
  '/v1/invitations/batch': {
    post: {
      summary: `Create up to ${MAX_BATCH} invitations (an SMS or email campaign); answers per item, in order.`,
      security: ingest,
      requestBody: {
        required: true,
        content: json({
          type: 'array',
          minItems: 1,
          maxItems: MAX_BATCH,
          items: { $ref: '#/components/schemas/InvitationInput' },
        }),
      },
      responses: {
        '200': {
          description:
            'One item per invitation: created or existing (a retry) with its links, throttled ' +
            'with throttledUntil, or conflict (the invitationId names another invitation).',
          content: json({
            type: 'object',
            properties: {
              created: { type: 'integer' },
              existing: { type: 'integer' },
              throttled: { type: 'integer' },
              conflicts: { type: 'integer' },
              items: {
                type: 'array',
                items: {
                  oneOf: [
                    {
                      allOf: [
                        { $ref: '#/components/schemas/Invitation' },
                        {
                          type: 'object',
                          properties: { status: { enum: ['created', 'existing'] } },
                        },
                      ],
                    },
                    {
                      type: 'object',
                      properties: {
                        status: { const: 'throttled' },
                        invitationId: { type: 'string' },
                        throttledUntil: dateTime,
                      },
                    },
                    {
                      type: 'object',
                      properties: {
                        status: { const: 'conflict' },
                        invitationId: { type: 'string' },
                      },
                    },
                  ],
                },
              },
            },
          }),
        },
        '400': {
          description: 'Any invalid item refuses the whole batch, naming `[i].field`.',
          content: {
            'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
          },
        },
        '401': problem,
        '403': problem,
        '503': problem,
      },
    },
  },
  '/v1/nps/funnel': {
    get: {
      summary:
        'Response rate of the invitations created in a range, with its Wilson 95 % interval, ' +
        'beside the NPS of those who answered.',
      security: read,
      parameters: [
        {
          name: 'surveyId',
          in: 'query',
          required: true,
          schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
        },
        { name: 'from', in: 'query', required: true, schema: dateTime },
        { name: 'to', in: 'query', schema: dateTime },
        { name: 'channel', in: 'query', schema: { $ref: '#/components/schemas/Channel' } },
        {
          name: 'segment',
          in: 'query',
          description: 'Filters as `segment.<key>=<value>`, up to 10, all must match.',
          style: 'deepObject',
          schema: { type: 'object', additionalProperties: { type: 'string' } },
        },
      ],
      responses: {
        '200': {
          description: 'The funnel.',
          content: json({ $ref: '#/components/schemas/Funnel' }),
        },
        '400': problem,
        '401': problem,
        '403': problem,
      },
    },
  },
};
