import { CHANNELS, validateResponseInput } from './response.js';
import type { Channel, FieldProblem, Validated } from './response.js';

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

const KNOWN = new Set(['surveyId', 'channel', 'respondentId', 'invitationId', 'segment']);

/**
 * Checks one invitation. The invitation id, respondent and segment follow exactly the rules of a
 * response's responseId, respondentId and segment (a response through the link carries them), so
 * they are checked by the response validator itself rather than by a copy that could drift; only
 * the field names are the invitation's.
 */
export function validateInvitationInput(
  input: unknown,
  now: number,
  path = '',
): Validated<InvitationInput> {
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      problems: [{ field: path === '' ? '(body)' : path, message: 'must be a JSON object' }],
    };
  }
  const item = input as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(item)) {
    if (!KNOWN.has(key)) problems.push({ field: at(key), message: 'is not a known field' });
  }
  if (!(CHANNELS as readonly unknown[]).includes(item.channel)) {
    problems.push({ field: at('channel'), message: `must be one of ${CHANNELS.join(', ')}` });
  }
  const checked = validateResponseInput(
    {
      surveyId: item.surveyId,
      score: 0,
      responseId: item.invitationId,
      respondentId: item.respondentId,
      segment: item.segment,
    },
    now,
    path,
  );
  if (!checked.ok) {
    const renamed = at('invitationId');
    for (const p of checked.problems) {
      problems.push(p.field === at('responseId') ? { ...p, field: renamed } : p);
    }
  }
  if (problems.length > 0 || !checked.ok) return { ok: false, problems };
  return {
    ok: true,
    value: {
      surveyId: checked.value.surveyId,
      channel: item.channel as Channel,
      respondentId: checked.value.respondentId,
      invitationId: checked.value.responseId,
      segment: checked.value.segment,
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
