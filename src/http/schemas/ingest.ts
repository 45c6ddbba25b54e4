import { Type } from '@sinclair/typebox';
import { InvitationInputSchema } from '../../domain/invitation.js';
import { ResponseInputSchema, SurveyId } from '../../domain/response.js';
import { StringEnum, messages } from '../../domain/schema.js';
import { MAX_BATCH } from '../limits.js';
import { DateTime } from './common.js';

/** Ingest: JSON responses, invitations, score links and the provider webhooks. */

export { InvitationInputSchema, ResponseInputSchema };

export const ResponseBatchSchema = Type.Array(ResponseInputSchema, {
  minItems: 1,
  maxItems: MAX_BATCH,
  description: 'A batch with any invalid item is refused whole, naming `[i].field`.',
});

export const AcceptedSchema = Type.Object({
  accepted: Type.Integer({ minimum: 1, maximum: MAX_BATCH }),
  responseIds: Type.Array(Type.String(), { description: 'In the order of the items.' }),
});

const invitationProperties = {
  invitationId: Type.String(),
  token: Type.String(),
  url: Type.String({ description: 'The answer page, GET /v1/r/{token}.' }),
  expiresAt: DateTime({ description: '30 days after the first creation.' }),
  scoreUrls: Type.Array(Type.String(), {
    minItems: 11,
    maxItems: 11,
    description: 'The page with score 0..10 preselected.',
  }),
};

export const InvitationSchema = Type.Object(invitationProperties);

export const InvitationBatchSchema = Type.Array(InvitationInputSchema, {
  minItems: 1,
  maxItems: MAX_BATCH,
});

export const InvitationBatchResultSchema = Type.Object({
  created: Type.Integer(),
  existing: Type.Integer(),
  throttled: Type.Integer(),
  conflicts: Type.Integer(),
  items: Type.Array(
    Type.Union([
      Type.Object({ status: StringEnum(['created', 'existing']), ...invitationProperties }),
      Type.Object({
        status: StringEnum(['throttled']),
        invitationId: Type.String(),
        throttledUntil: DateTime(),
      }),
      Type.Object({ status: StringEnum(['conflict']), invitationId: Type.String() }),
    ]),
    { description: 'One per requested invitation, in order.' },
  ),
});

export const LinkPath = Type.Object({
  token: Type.String({ description: 'The signed token of an invitation.' }),
});

export const LinkQuery = Type.Object({
  score: Type.Optional(
    Type.String({ pattern: '^(10|[0-9])$', description: 'Preselected on the page; else ignored.' }),
  ),
});

export const LinkFormSchema = Type.Object({
  score: Type.String({ description: '0-10.' }),
  comment: Type.Optional(Type.String()),
});

export const LinkJsonSchema = Type.Object({
  score: Type.Integer({ minimum: 0, maximum: 10 }),
  comment: Type.Optional(Type.String({ maxLength: 5000 })),
});

export const LinkAcceptedSchema = Type.Object({ responseId: Type.String() });

/** The query of a provider webhook route: its survey and the segment it stamps. */
export const WebhookQuery = Type.Object({ surveyId: SurveyId() });

export const TwilioFormSchema = Type.Object(
  {
    MessageSid: Type.String({
      pattern: '^(SM|MM)[0-9a-fA-F]{32}$',
      ...messages('must be a Twilio message SID'),
    }),
    From: Type.Optional(Type.String({ description: 'Pseudonymized.' })),
    Body: Type.Optional(Type.String({ description: 'The reply: a score 0-10, then a comment.' })),
  },
  { description: 'Twilio form fields; the others are signed over and ignored.' },
);

export const TwilioHeaders = Type.Object({
  'X-Twilio-Signature': Type.String({
    description: 'HMAC-SHA1 of the URL and fields with TWILIO_AUTH_TOKEN.',
  }),
});

export const MailgunFormSchema = Type.Object(
  {
    timestamp: Type.String({ pattern: '^[0-9]{1,12}$' }),
    token: Type.String(),
    signature: Type.String({ description: 'HMAC-SHA256 of timestamp+token, hex.' }),
    'Message-Id': Type.String({ maxLength: 998 }),
    'stripped-text': Type.Optional(Type.String()),
    'body-plain': Type.Optional(Type.String()),
    sender: Type.Optional(Type.String({ description: 'Pseudonymized.' })),
  },
  { description: 'Mailgun route fields; the others are ignored.' },
);

export const MailgunResultSchema = Type.Union([
  Type.Object({ recorded: Type.Literal(true), responseId: Type.String() }),
  Type.Object({ recorded: Type.Literal(false), reason: Type.String() }),
]);
