import { Type } from '@sinclair/typebox';
import { ChannelSchema, SurveyId } from '../../domain/response.js';
import { Nullable, StringEnum, messages } from '../../domain/schema.js';
import { FORMATS } from '../../events/subscriptions.js';
import { EVENT_TYPES } from '../../events/types.js';
import type { EventType } from '../../events/types.js';
import { DateTime } from './common.js';
import { QueryInteger } from './read.js';

export const MAX_URL = 2048;
export const SUBSCRIPTION_ID_PATTERN = '^sub_[A-Za-z0-9]{32}$';

// The item's own text would name `events[0]`: the list's rule names `events`, as before.
const Events = () =>
  Type.Array(Type.Unsafe<EventType>({ type: 'string', enum: [...EVENT_TYPES] }), {
    minItems: 1,
    uniqueItems: true,
    ...messages(`must list one or more of ${EVENT_TYPES.join(', ')}, each once`),
  });

export const SubscriptionInputSchema = Type.Object(
  {
    url: Type.String({
      maxLength: MAX_URL,
      description:
        'https, and it must reach a public address (see NPS_WEBHOOK_ALLOW_*): checked when created.',
      ...messages(`must be a URL of at most ${MAX_URL} characters`),
    }),
    events: Events(),
    surveyId: Type.Optional(Nullable(SurveyId())),
    format: Type.Optional(StringEnum(FORMATS, { default: 'standard' })),
  },
  {
    additionalProperties: false,
    'x-unknown-message': 'is not a field of a subscription',
    ...messages('must be a JSON object'),
  },
);

const subscriptionProperties = {
  subscriptionId: Type.String(),
  url: Type.String(),
  events: Type.Array(StringEnum(EVENT_TYPES)),
  surveyId: Nullable(Type.String()),
  format: StringEnum(FORMATS),
  createdAt: DateTime(),
};

export const SubscriptionSchema = Type.Object(subscriptionProperties);

export const CreatedSubscriptionSchema = Type.Object({
  ...subscriptionProperties,
  secret: Type.String({ pattern: '^whsec_', description: 'The signing secret, shown only here.' }),
});

export const SubscriptionListSchema = Type.Object({
  subscriptions: Type.Array(SubscriptionSchema),
});

export const SubscriptionPath = Type.Object({
  id: Type.String({ description: 'A subscriptionId: sub_ and 32 letters or digits.' }),
});

export const DeliveriesQuery = Type.Object({
  limit: Type.Optional(QueryInteger(1, 1000, 100)),
});

export const DeliveriesSchema = Type.Object({
  subscriptionId: Type.String(),
  deliveries: Type.Array(
    Type.Object({
      eventId: Type.String(),
      webhookId: Type.String(),
      eventType: Type.String(),
      attempt: Type.Integer(),
      status: Type.Integer({ description: '0 when no answer came.' }),
      outcome: StringEnum(['delivered', 'failed', 'dead-lettered', 'withheld']),
      latencyMs: Type.Number(),
      error: Type.String({ description: 'Empty when delivered.' }),
      attemptedAt: DateTime(),
    }),
    { description: 'Newest first (kept 30 days).' },
  ),
});

/** Body of a response.created or response.detractor webhook (format standard). */
export const ResponseEventSchema = Type.Object(
  {
    type: StringEnum(['response.created', 'response.detractor']),
    timestamp: DateTime(),
    data: Type.Object({
      responseId: Type.String(),
      surveyId: Type.String(),
      channel: ChannelSchema,
      score: Type.Integer({ minimum: 0, maximum: 10 }),
      category: StringEnum(['promoter', 'passive', 'detractor']),
      comment: Nullable(Type.String()),
      language: Nullable(Type.String()),
      themes: Type.Array(Type.String()),
      respondentId: Nullable(Type.String({ description: 'Pseudonym.' })),
      segment: Type.Record(Type.String(), Type.String()),
      respondedAt: DateTime(),
      caseId: Nullable(Type.String()),
    }),
  },
  {
    description:
      'Body of a response.created or response.detractor webhook (format standard), signed to the ' +
      'Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature).',
  },
);
