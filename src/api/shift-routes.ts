import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import type { FieldProblem } from '../domain/response.js';
import type { ShiftStore } from '../storage/shifts.js';
import { allowSurvey } from '../http/auth.js';
import { invalid } from '../http/problem.js';
import { checkQuery, rangeOf } from '../http/query.js';
import { ShiftsQuery } from '../http/schemas/read.js';

export interface ShiftRoutesDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly store: ShiftStore;
  readonly now: () => number;
}

/**
 * The NPS shifts the stream processor's detectors found: of the survey over all channels, or with
 * `channel` of that channel's own detector.
 */
export function shiftRouter(deps: ShiftRoutesDeps): Router {
  const router = Router();

  router.get('/v1/nps/shifts', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, ShiftsQuery, problems);
    const range = rangeOf(q.from, q.to, deps.now(), problems);
    if (problems.length > 0 || range === null) throw invalid(problems);
    const { surveyId } = q;
    const channel = q.channel ?? null;
    allowSurvey(res, surveyId);
    const shifts = await deps.store.list({ surveyId, channel, ...range });
    res.json({
      surveyId,
      ...(channel !== null && { channel }),
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      shifts,
    });
  });

  return router;
}
