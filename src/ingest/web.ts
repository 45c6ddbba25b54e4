import { randomUUID } from 'node:crypto';
import express from 'express';
import type { RequestHandler, Router } from 'express';
import type { Scope } from '../config/config.js';
import { respondentIdFrom } from '../domain/pseudonym.js';
import { normalizedResponse, validateResponseInput } from '../domain/response.js';
import type { FieldProblem, NpsResponse, ResponseInput } from '../domain/response.js';
import { allowSurvey } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import { MAX_BATCH } from '../http/limits.js';
import { invalid, requireJson } from '../http/problem.js';
import type { Metrics } from '../metrics.js';
import type { Publisher } from './publisher.js';

export interface WebDeps {
  readonly publisher: Publisher;
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly metrics: Metrics;
  /** Key of the HMAC that replaces emails and phone numbers given as respondentId. */
  readonly pseudonymKey?: string;
  readonly now: () => number;
}

function toResponse(
  input: ResponseInput,
  receivedAt: number,
  pseudonymKey: string | undefined,
): NpsResponse {
  return normalizedResponse({
    ...input,
    responseId: input.responseId ?? randomUUID(),
    respondentId: respondentIdFrom(pseudonymKey, input.respondentId),
    respondedAt: input.respondedAt ?? receivedAt,
    receivedAt,
  });
}

/**
 * The web and API channel: `POST /v1/responses`, one response or a batch of up to MAX_BATCH,
 * each checked against the schema the document shows; a batch is accepted whole or not at all.
 */
export function webRouter(deps: WebDeps): Router {
  const router = express.Router();
  const json = jsonBody('1mb', { anyType: true });
  const { publisher, requireScope, now } = deps;
  router.post('/v1/responses', requireScope('ingest'), requireJson, json, async (req, res) => {
    const body: unknown = req.body;
    const batch = Array.isArray(body);
    const items: unknown[] = batch ? body : [body];
    if (items.length === 0 || items.length > MAX_BATCH) {
      throw invalid([{ field: '(body)', message: `must hold 1 to ${MAX_BATCH} responses` }]);
    }
    const at = now();
    const problems: FieldProblem[] = [];
    const responses: NpsResponse[] = [];
    items.forEach((item, index) => {
      const checked = validateResponseInput(item, at, batch ? `[${index}]` : '');
      if (checked.ok) responses.push(toResponse(checked.value, at, deps.pseudonymKey));
      else problems.push(...checked.problems);
    });
    if (problems.length > 0) {
      deps.metrics.ingested.inc({ channel: 'api', outcome: 'rejected' });
      throw invalid(problems);
    }
    for (const r of new Set(responses.map((x) => x.surveyId))) allowSurvey(res, r);
    await publisher.publish(responses);
    for (const r of responses)
      deps.metrics.ingested.inc({ channel: r.channel, outcome: 'accepted' });
    res
      .status(202)
      .json({ accepted: responses.length, responseIds: responses.map((r) => r.responseId) });
  });
  return router;
}
