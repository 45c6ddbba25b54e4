import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import { compareNps } from '../domain/compare.js';
import type { FieldProblem } from '../domain/response.js';
import type { ResponseStore } from '../storage/responses.js';
import { allowSurvey } from '../http/auth.js';
import { invalid } from '../http/problem.js';
import { checkQuery, rangeOf } from '../http/query.js';
import { CompareQuery, FeedQuery } from '../http/schemas/read.js';
import { segmentParams } from './segment-query.js';

const DAY = 86_400_000;

export interface SurveyRoutesDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly store: ResponseStore;
  readonly minResponses: number;
  readonly now: () => number;
  /** Segment keys compare can be filtered on (NPS_SEGMENT_KEYS). @default [] */
  readonly segmentKeys?: readonly string[];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The surveys, the latest responses of one (who to call), and two periods compared. */
export function surveyRouter(deps: SurveyRoutesDeps): Router {
  const router = Router();

  router.get('/v1/surveys', deps.requireScope('read'), async (_req, res) => {
    const allowed = res.locals.surveys as ReadonlySet<string> | null | undefined;
    const surveys = await deps.store.surveys(1000);
    res.json({
      surveys: surveys
        .filter((s) => !allowed || allowed.has(s.surveyId))
        .map((s) => ({ ...s, lastResponseAt: iso(s.lastResponseAt) })),
    });
  });

  router.get('/v1/nps/feed', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, FeedQuery, problems);
    const now = deps.now();
    const given =
      q.from === undefined
        ? { from: now - 30 * DAY, to: now }
        : rangeOf(q.from, q.to, now, problems);
    if (problems.length > 0 || given === null) throw invalid(problems);
    const { surveyId } = q;
    const channel = q.channel ?? null;
    const category = q.category ?? null;
    const limit = q.limit ?? 50;
    allowSurvey(res, surveyId);
    const items = await deps.store.recent({ surveyId, channel, ...given, category }, limit);
    res.json({
      surveyId,
      ...(channel !== null && { channel }),
      ...(category !== null && { category }),
      from: iso(given.from),
      to: iso(given.to),
      responses: items.map((i) => ({ ...i, respondedAt: iso(i.respondedAt) })),
    });
  });

  router.get('/v1/nps/compare', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, CompareQuery, problems);
    const now = deps.now();
    const a = rangeOf(q.aFrom, q.aTo, now, problems, { from: 'aFrom', to: 'aTo' });
    const b = rangeOf(q.bFrom, q.bTo, now, problems, { from: 'bFrom', to: 'bTo' });
    const segment = segmentParams(req, deps.segmentKeys ?? [], problems);
    if (problems.length > 0 || a === null || b === null) throw invalid(problems);
    const { surveyId } = q;
    const channel = q.channel ?? null;
    allowSurvey(res, surveyId);
    const [tallyA, tallyB] = await Promise.all([
      deps.store.tally({ surveyId, channel, segment, ...a }),
      deps.store.tally({ surveyId, channel, segment, ...b }),
    ]);
    const compared = compareNps(tallyA, tallyB, { minResponses: deps.minResponses });
    res.json({
      surveyId,
      ...(channel !== null && { channel }),
      ...(Object.keys(segment).length > 0 && { segment }),
      ...compared,
      a: { from: iso(a.from), to: iso(a.to), ...compared.a },
      b: { from: iso(b.from), to: iso(b.to), ...compared.b },
    });
  });

  return router;
}
