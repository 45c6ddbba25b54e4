/** The follow-up cases part of the OpenAPI document (spread into src/api/openapi.ts). */

const problem = { $ref: '#/components/responses/Problem' };
const security = [{ apiKey: ['cases'] }, { apiKey: ['admin'] }];
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };
const status = { type: 'string', enum: ['open', 'contacted', 'resolved'] };
const caseIdParam = {
  name: 'caseId',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^case_[A-Za-z0-9_-]{24}$' },
};
const caseRef = { $ref: '#/components/schemas/Case' };

export const schemas = {
  Case: {
    type: 'object',
    description: 'A follow-up case: the response that opened it, folded with every change since.',
    properties: {
      caseId: { type: 'string' },
      responseId: { type: 'string' },
      surveyId: { type: 'string' },
      channel: { $ref: '#/components/schemas/Channel' },
      score: { type: 'integer', minimum: 0, maximum: 10 },
      comment: { type: ['string', 'null'] },
      themes: { type: 'array', items: { type: 'string' } },
      respondentId: { type: ['string', 'null'] },
      status,
      assignee: { type: ['string', 'null'] },
      openedAt: { ...dateTime, description: 'When ingest accepted the response.' },
      firstContactAt: {
        ...nullableDateTime,
        description: 'First change to contacted or resolved.',
      },
      resolvedAt: nullableDateTime,
      dueAt: { ...dateTime, description: 'openedAt + NPS_CASE_SLA_HOURS.' },
      overdue: { type: 'boolean', description: 'Past dueAt without a first contact.' },
      notes: {
        type: 'array',
        items: {
          type: 'object',
          properties: { at: dateTime, by: { type: 'string' }, note: { type: 'string' } },
        },
      },
      laterScore: {
        type: ['integer', 'null'],
        description: "The respondent's first later answer to the same survey; null without one.",
      },
      recovered: {
        type: ['boolean', 'null'],
        description: "Whether that answer's category is better than the case's; null without one.",
      },
    },
  },
  CaseChange: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      status: {
        ...status,
        description: 'contacted -> open is refused (409); resolved may reopen.',
      },
      assignee: { type: ['string', 'null'], maxLength: 200 },
      note: { type: 'string', maxLength: 5000 },
    },
  },
};

export const paths = {
  '/v1/cases': {
    get: {
      summary:
        'Follow-up cases, newest first, a page at a time; a survey-restricted key sees only its surveys.',
      security,
      parameters: [
        { name: 'surveyId', in: 'query', schema: { type: 'string' } },
        { name: 'status', in: 'query', schema: status },
        { name: 'theme', in: 'query', schema: { type: 'string' } },
        { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor' },
        {
          name: 'limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
        },
      ],
      responses: {
        '200': {
          description: '{cases, nextCursor}; nextCursor is null on the last page.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  cases: { type: 'array', items: caseRef },
                  nextCursor: { type: ['string', 'null'] },
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
  '/v1/cases/summary': {
    get: {
      summary:
        'Cases opened in [from, to): counts per status, overdue, median time to first contact with its 95 % interval and n, recovery rate with its margin and n.',
      security,
      parameters: [
        { name: 'surveyId', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'from', in: 'query', required: true, schema: dateTime },
        { name: 'to', in: 'query', schema: dateTime },
      ],
      responses: {
        '200': { description: 'The summary' },
        '400': problem,
        '401': problem,
        '403': problem,
      },
    },
  },
  '/v1/cases/{caseId}': {
    get: {
      summary: 'One case with every change made to it (who, when, what).',
      security,
      parameters: [caseIdParam],
      responses: {
        '200': { description: 'The case', content: { 'application/json': { schema: caseRef } } },
        '400': problem,
        '401': problem,
        '403': problem,
        '404': problem,
      },
    },
    patch: {
      summary:
        'Changes status, assignee or adds a note; kept with the key name and time, published as case.updated. A retry with the same Idempotency-Key is kept once (the key reused for another change: 409); a change to the state the case has already is not kept.',
      security,
      parameters: [
        caseIdParam,
        { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 } },
      ],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseChange' } } },
      },
      responses: {
        '200': {
          description: 'The case now',
          content: { 'application/json': { schema: caseRef } },
        },
        '400': problem,
        '401': problem,
        '403': problem,
        '404': problem,
        '409': problem,
        '415': problem,
      },
    },
  },
};
