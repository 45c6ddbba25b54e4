import { createHash, randomUUID } from 'node:crypto';
import express from 'express';
import type { RequestHandler, Response, Router } from 'express';
import { allowSurvey } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import { MAX_BATCH } from '../http/limits.js';
import type { Metrics } from '../metrics.js';
import { HttpProblem, invalid, requireJson } from '../http/problem.js';
import type { Scope } from '../config/config.js';
import { validateInvitationInput } from '../domain/invitation.js';
import type { InvitationFact, InvitationInput } from '../domain/invitation.js';
import type { FieldProblem } from '../domain/response.js';
import { NpsError } from '../errors.js';
import type { InvitationMarks, ReserveRequest } from '../storage/invitation-marks.js';
import type { InvitationPublisher } from './invitation-publisher.js';
import { LINK_LIFETIME_MS, signInvitation } from './links.js';
import type { Invitation } from './links.js';
import { respondentIdFrom } from '../domain/pseudonym.js';

export interface InvitationDeps {
  readonly secret: string;
  readonly publicBaseUrl: string;
  readonly pseudonymKey: string | undefined;
  readonly marks: InvitationMarks;
  readonly publisher: InvitationPublisher;
  readonly metrics: Metrics;
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly now: () => number;
}

/** What became of one requested invitation. */
export type InvitationResult =
  | {
      readonly status: 'created' | 'existing';
      readonly invitationId: string;
      readonly token: string;
      readonly url: string;
      readonly expiresAt: string;
      readonly scoreUrls: readonly string[];
    }
  | { readonly status: 'throttled'; readonly invitationId: string; readonly throttledUntil: string }
  | { readonly status: 'conflict'; readonly invitationId: string };

/** Redis on a request path fails fast; its failure is the caller's 503, like Kafka's. */
async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    throw new NpsError('SERVICE_UNAVAILABLE', 'Redis unavailable', { cause, retriable: true });
  }
}

/**
 * Invitations, one or a campaign batch. Each is reserved in Redis (recontact check and mark in one
 * script, and the invitation id's first creation), published to Kafka (acks=all), and only then
 * answered; what Kafka refuses is released again in Redis, so nothing is recorded and the client
 * retries. A retry with the same invitationId finds the first creation, publishes the fact again
 * (repeats fold in ClickHouse) and gets the same token: its expiry comes from that first creation.
 */
export function invitationsRouter(deps: InvitationDeps): Router {
  const router = express.Router();
  const json = jsonBody('1mb', { anyType: true });
  const linkUrl = (token: string) => `${deps.publicBaseUrl}/v1/r/${token}`;

  async function invite(inputs: readonly InvitationInput[]): Promise<InvitationResult[]> {
    const now = deps.now();
    const requests = inputs.map((input) => {
      const respondentId = respondentIdFrom(deps.pseudonymKey, input.respondentId);
      const segment = sortedSegment(input.segment);
      return {
        input,
        segment,
        invitationId: input.invitationId ?? randomUUID(),
        respondentId,
        fingerprint: createHash('sha256')
          .update(JSON.stringify([input.surveyId, input.channel, respondentId, segment]))
          .digest('base64url'),
        now,
        ttlMs: LINK_LIFETIME_MS,
      };
    });
    const reserved = await redisCall(() => deps.marks.reserve(requests));
    const facts: InvitationFact[] = [];
    const fresh: (ReserveRequest & { createdAt: number })[] = [];
    const results = requests.map((r, i): InvitationResult => {
      const reservation = reserved[i];
      if (!reservation || reservation.outcome === 'conflict') {
        return { status: 'conflict', invitationId: r.invitationId };
      }
      if (reservation.outcome === 'throttled') {
        return {
          status: 'throttled',
          invitationId: r.invitationId,
          throttledUntil: new Date(reservation.throttledUntil).toISOString(),
        };
      }
      const { createdAt } = reservation;
      const invitation: Invitation = {
        invitationId: r.invitationId,
        surveyId: r.input.surveyId,
        channel: r.input.channel,
        // Emails and phone numbers never go into a token in clear; opaque ids stay as given.
        respondentId: r.respondentId,
        expiresAt: createdAt + LINK_LIFETIME_MS,
        ...(Object.keys(r.segment).length > 0 && { segment: r.segment }),
      };
      facts.push({
        stage: 'created',
        invitationId: r.invitationId,
        surveyId: invitation.surveyId,
        channel: invitation.channel,
        respondentId: r.respondentId,
        segment: r.segment,
        createdAt,
        expiresAt: invitation.expiresAt,
        at: createdAt,
      });
      if (reservation.outcome === 'created') fresh.push({ ...r, createdAt });
      const token = signInvitation(deps.secret, invitation);
      const url = linkUrl(token);
      return {
        status: reservation.outcome,
        invitationId: r.invitationId,
        token,
        url,
        expiresAt: new Date(invitation.expiresAt).toISOString(),
        scoreUrls: Array.from({ length: 11 }, (_, n) => `${url}?score=${n}`),
      };
    });
    try {
      await deps.publisher.publish(facts);
    } catch (error) {
      // Not recorded: the respondent must not stay throttled by it, nor its id reserved.
      await deps.marks.release(fresh).catch(() => undefined);
      throw error;
    }
    for (const f of facts) deps.metrics.ingested.inc({ channel: f.channel, outcome: 'invited' });
    return results;
  }

  function checked(items: readonly unknown[], batch: boolean): InvitationInput[] {
    const now = deps.now();
    const problems: FieldProblem[] = [];
    const inputs: InvitationInput[] = [];
    items.forEach((item, index) => {
      const result = validateInvitationInput(item, now, batch ? `[${index}]` : '');
      if (result.ok) inputs.push(result.value);
      else problems.push(...result.problems);
    });
    // A bad item refuses the whole request, as POST /v1/responses does: nothing is recorded.
    if (problems.length > 0) throw invalid(problems);
    return inputs;
  }

  router.post(
    '/v1/invitations',
    deps.requireScope('ingest'),
    requireJson,
    json,
    async (req, res) => {
      const [input] = checked([req.body], false);
      if (!input) throw invalid([{ field: '(body)', message: 'must be a JSON object' }]);
      allowSurvey(res, input.surveyId);
      const [result] = await invite([input]);
      if (!result) throw new Error('no result for the invitation');
      if (result.status === 'throttled') {
        throw new HttpProblem(
          409,
          'Recontact too soon',
          `The respondent was invited or answered within NPS_RECONTACT_DAYS; not before ${result.throttledUntil}`,
          { throttledUntil: result.throttledUntil },
        );
      }
      if (result.status === 'conflict') throw conflict(result.invitationId);
      sendInvitation(res, result.status === 'created' ? 201 : 200, result);
    },
  );

  router.post(
    '/v1/invitations/batch',
    deps.requireScope('ingest'),
    requireJson,
    json,
    async (req, res) => {
      const body: unknown = req.body;
      if (!Array.isArray(body) || body.length === 0 || body.length > MAX_BATCH) {
        throw invalid([
          { field: '(body)', message: `must be an array of 1 to ${MAX_BATCH} invitations` },
        ]);
      }
      const inputs = checked(body, true);
      for (const surveyId of new Set(inputs.map((i) => i.surveyId))) allowSurvey(res, surveyId);
      const results = await invite(inputs);
      const count = (status: InvitationResult['status']) =>
        results.filter((r) => r.status === status).length;
      res.status(200).json({
        created: count('created'),
        existing: count('existing'),
        throttled: count('throttled'),
        conflicts: count('conflict'),
        items: results,
      });
    },
  );

  return router;
}

function conflict(invitationId: string): HttpProblem {
  return new HttpProblem(
    409,
    'Invitation id in use',
    `invitationId ${invitationId} names another invitation (survey, channel, respondent or segment differ)`,
  );
}

function sendInvitation(
  res: Response,
  status: number,
  result: Extract<InvitationResult, { token: string }>,
): void {
  const { invitationId, token, url, expiresAt, scoreUrls } = result;
  res.status(status).json({ invitationId, token, url, expiresAt, scoreUrls });
}

/** Keys in order, so the same segment always signs into the same token and fingerprint. */
function sortedSegment(segment: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(segment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
