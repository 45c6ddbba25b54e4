import { Type } from '@sinclair/typebox';
import { MAX_RESPONDENT_ID, NOT_BLANK_PATTERN } from '../../domain/response.js';
import { Nullable, messages } from '../../domain/schema.js';
import { DateTime } from './common.js';

/** Health, readiness, erasure and the dashboard's session. */

export const HealthSchema = Type.Object({ status: Type.Literal('ok') });
export const ReadySchema = Type.Object({ status: Type.Literal('ready') });
export const NotReadySchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Literal(503),
  detail: Type.String(),
  instance: Type.String(),
  unreachable: Type.Array(Type.String(), { description: 'The dependencies that do not answer.' }),
});

export const ErasurePath = Type.Object({
  respondentId: Type.String({
    minLength: 1,
    maxLength: MAX_RESPONDENT_ID,
    pattern: NOT_BLANK_PATTERN,
    description:
      'The respondentId as sent at ingest: an email or phone number (pseudonymized here the ' +
      'same way), or an opaque id.',
    ...messages(`must be 1-${MAX_RESPONDENT_ID} characters, no control characters`),
  }),
});

export const ErasureSchema = Type.Object({
  respondentId: Type.String({ description: 'The stored (pseudonymous) respondent id.' }),
  erasedBefore: DateTime({ description: 'Responses received up to this instant are erased.' }),
  historyResponsesDeleted: Type.Integer(),
  liveResponsesRemoved: Type.Integer({
    description: 'Of those, the ones still inside a live window (30 days).',
  }),
  invitationsDeleted: Type.Optional(
    Type.Integer({ description: 'Invitations of the respondent (each with its funnel stages).' }),
  ),
  recontactMarksDeleted: Type.Optional(
    Type.Integer({ description: 'Recontact marks (0 or 1): the respondent may be invited again.' }),
  ),
  casesDeleted: Type.Optional(
    Type.Integer({ description: 'Follow-up cases of the respondent, with their changes.' }),
  ),
});

export const SessionSchema = Type.Object({
  signedIn: Type.Boolean(),
  surveys: Type.Optional(Nullable(Type.Array(Type.String()))),
  expiresAt: Type.Optional(DateTime()),
  segmentKeys: Type.Optional(Type.Array(Type.String())),
});

export const SignInSchema = Type.Object({ apiKey: Type.String() });
