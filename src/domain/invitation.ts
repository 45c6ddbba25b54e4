import { Type } from '@sinclair/typebox';
import {
  CHANNELS,
  ChannelSchema,
  RespondentIdSchema,
  ResponseIdSchema,
  SegmentSchema,
  SurveyId,
} from './response.js';
import type { Channel, Validated } from './response.js';
import { Nullable, conforms, messages, schemaProblems } from './schema.js';

/** One item of `POST /v1/invitations` (and of the batch). */
export const InvitationInputSchema = Type.Object(
  {
    surveyId: SurveyId(),
    channel: ChannelSchema,
    respondentId: RespondentIdSchema(
      'Emails and phone numbers are pseudonymized (NPS_PSEUDONYM_KEY) before anything keeps ' +
        'them; with a respondent the recontact window applies.',
    ),
    invitationId: ResponseIdSchema(
      'Makes a retry safe: the same id with the same content returns the same invitation ' +
        '(same token); a UUID when absent. A response through the link has it as responseId.',
    ),
    segment: Type.Optional(
      Nullable({
        ...SegmentSchema,
        description: 'Signed into the token; a response through the link carries it.',
      }),
    ),
  },
  { additionalProperties: false, ...messages('must be a JSON object') },
);

/** What a client asks for in `POST /v1/invitations` (one item of the batch). */
export interface InvitationInput {
  readonly surveyId: string;
  readonly channel: Channel;
  /** As given: an email or phone number is pseudonymized by ingest before it goes anywhere. */
  readonly respondentId: string | null;
  /** Client-given id that makes a retry safe; null: ingest makes one. */
  readonly invitationId: string | null;
  readonly segment: Readonly<Record<string, string>>;
}

/**
 * Checks one invitation. The invitation id, respondent and segment are declared with the very
 * schemas of a response's responseId, respondentId and segment (a response through the link
 * carries them), so they cannot drift apart.
 */
export function validateInvitationInput(
  input: unknown,
  _now: number,
  path = '',
): Validated<InvitationInput> {
  const problems = schemaProblems(InvitationInputSchema, input, path);
  if (problems.length > 0 || !conforms(InvitationInputSchema, input)) {
    return { ok: false, problems };
  }
  return {
    ok: true,
    value: {
      surveyId: input.surveyId,
      channel: input.channel,
      respondentId: input.respondentId ?? null,
      invitationId: input.invitationId ?? null,
      segment: input.segment ?? {},
    },
  };
}

export const STAGES = ['created', 'opened'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * One fact of an invitation's life as it travels through Kafka (topic NPS_INVITATION_TOPIC, JSON,
 * keyed by invitationId so both facts of an invitation keep their order on one partition).
 * "Responded" and "commented" are not facts here: they are read from the responses themselves,
 * which stays exact whatever Kafka replays.
 */
export interface InvitationFact {
  readonly stage: Stage;
  readonly invitationId: string;
  readonly surveyId: string;
  readonly channel: Channel;
  /** Pseudonymous (never an email or phone number); null for an anonymous invitation. */
  readonly respondentId: string | null;
  readonly segment: Readonly<Record<string, string>>;
  /** Epoch ms of the invitation's first creation (a retry keeps it). */
  readonly createdAt: number;
  /** Epoch ms after which its link is refused. */
  readonly expiresAt: number;
  /** Epoch ms of this stage. */
  readonly at: number;
}

export function encodeFact(fact: InvitationFact): Buffer {
  return Buffer.from(JSON.stringify(fact));
}

/** The fact in a record, or null when it is not one (never written by ingest). */
export function decodeFact(value: Buffer | null): InvitationFact | null {
  if (value === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const f = raw as Record<string, unknown>;
  const ms = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
  const ok =
    (STAGES as readonly unknown[]).includes(f.stage) &&
    typeof f.invitationId === 'string' &&
    typeof f.surveyId === 'string' &&
    (CHANNELS as readonly unknown[]).includes(f.channel) &&
    (f.respondentId === null || typeof f.respondentId === 'string') &&
    typeof f.segment === 'object' &&
    f.segment !== null &&
    Object.values(f.segment).every((v) => typeof v === 'string') &&
    ms(f.createdAt) &&
    ms(f.expiresAt) &&
    ms(f.at);
  return ok ? (raw as InvitationFact) : null;
}
