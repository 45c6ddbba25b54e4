import express from 'express';
import type { RequestHandler, Router } from 'express';
import type { Scope } from '../config/config.js';
import { HttpProblem, invalid } from '../http/problem.js';
import { checkPath } from '../http/query.js';
import { ErasurePath } from '../http/schemas/ops.js';
import { eraseRespondent } from '../use-cases/erase-respondent.js';
import type { ErasureDeps } from '../use-cases/erase-respondent.js';

/**
 * `DELETE /v1/respondents/<respondentId>`: the erasure use case over HTTP, for admin keys not
 * restricted to surveys (an erasure covers every survey).
 */
export function erasureRouter(
  deps: ErasureDeps & {
    readonly requireScope: (scope: Scope) => RequestHandler;
    readonly now: () => number;
  },
): Router {
  const router = express.Router();
  router.delete('/v1/respondents/:respondentId', deps.requireScope('admin'), async (req, res) => {
    if (res.locals.surveys) {
      throw new HttpProblem(
        403,
        'Forbidden',
        'Erasure covers every survey: it needs an admin key not restricted to surveys',
      );
    }
    // The rules ingest applies, so that what could never be stored is refused, not searched.
    const problems = checkPath(req, ErasurePath);
    if (problems.length > 0) throw invalid(problems);
    const erased = await eraseRespondent(deps, String(req.params.respondentId), deps.now());
    if (!erased.ok) {
      throw new HttpProblem(
        400,
        'Nothing to erase by',
        'Without NPS_PSEUDONYM_KEY no email or phone number is kept, so none can be erased by',
      );
    }
    res.json({
      respondentId: erased.respondentId,
      erasedBefore: new Date(erased.cut).toISOString(),
      historyResponsesDeleted: erased.historyResponsesDeleted,
      liveResponsesRemoved: erased.liveResponsesRemoved,
      ...erased.further,
    });
  });
  return router;
}
