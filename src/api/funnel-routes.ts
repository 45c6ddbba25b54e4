import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import { funnelSummary } from '../domain/response-rate.js';
import { MAX_SEGMENT_ENTRIES } from '../domain/response.js';
import type { FieldProblem } from '../domain/response.js';
import type { InvitationStore } from '../storage/invitations.js';
import { allowSurvey } from '../http/auth.js';
import { invalid } from '../http/problem.js';
import { checkQuery, rangeOf } from '../http/query.js';
import { FunnelQuery } from '../http/schemas/read.js';

export interface FunnelRoutesDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly store: InvitationStore;
  readonly minResponses: number;
  readonly now: () => number;
}

/**
 * The response-rate funnel of the invitations created in a range: invited, opened, responded,
 * commented, the response rate with its Wilson 95 % interval, and the NPS of those who answered,
 * side by side: a low response rate can bias the NPS, so one is never shown without the other.
 */
export function funnelRouter(deps: FunnelRoutesDeps): Router {
  const router = Router();

  router.get('/v1/nps/funnel', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, FunnelQuery, problems);
    const range = rangeOf(q.from, q.to, deps.now(), problems);
    const segment: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.query)) {
      if (!name.startsWith('segment.')) continue;
      const key = name.slice('segment.'.length);
      if (key === '' || typeof value !== 'string') {
        problems.push({ field: name, message: 'must be segment.<key>=<value>' });
      } else segment[key] = value;
    }
    if (Object.keys(segment).length > MAX_SEGMENT_ENTRIES) {
      problems.push({
        field: 'segment',
        message: `at most ${MAX_SEGMENT_ENTRIES} segment filters`,
      });
    }
    if (problems.length > 0 || range === null) throw invalid(problems);
    const { surveyId } = q;
    const channel = q.channel ?? null;
    allowSurvey(res, surveyId);
    const { counts, responders } = await deps.store.funnel({
      surveyId,
      channel,
      segment,
      ...range,
    });
    res.json({
      surveyId,
      ...(channel !== null && { channel }),
      ...(Object.keys(segment).length > 0 && { segment }),
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      ...funnelSummary(counts, responders, deps.minResponses),
    });
  });

  return router;
}
