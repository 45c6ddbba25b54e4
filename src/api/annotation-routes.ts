import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import { compareNps } from '../domain/compare.js';
import type { NpsComparison } from '../domain/compare.js';
import { CHANNELS, ISO_INSTANT_MESSAGE, parseIsoInstant } from '../domain/response.js';
import { conforms, schemaProblems } from '../domain/schema.js';
import type { FieldProblem } from '../domain/response.js';
import type { Annotation, AnnotationStore } from '../storage/annotations.js';
import type { ResponseStore } from '../storage/responses.js';
import type { ThemeStore } from '../storage/themes.js';
import { allowSurvey } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import { HttpProblem, invalid, requireJson } from '../http/problem.js';
import { checkPath, checkQuery, rangeOf } from '../http/query.js';
import {
  AnnotationInputSchema,
  AnnotationListQuery,
  AnnotationPath,
  ImpactQuery,
} from '../http/schemas/annotations.js';

const DAY = 86_400_000;

export interface AnnotationRoutesDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly annotations: AnnotationStore;
  readonly responses: ResponseStore;
  readonly themes: ThemeStore;
  readonly minResponses: number;
  readonly now: () => number;
}

function view(a: Annotation) {
  return {
    annotationId: a.annotationId,
    surveyId: a.surveyId,
    at: new Date(a.at).toISOString(),
    label: a.label,
    createdBy: a.createdBy,
    createdAt: new Date(a.createdAt).toISOString(),
  };
}

function checkAnnotation(body: unknown): {
  surveyId: string;
  at: number;
  label: string;
  annotationId: string | null;
} {
  const problems = schemaProblems(AnnotationInputSchema, body);
  if (problems.length > 0 || !conforms(AnnotationInputSchema, body)) throw invalid(problems);
  const at = parseIsoInstant(body.at);
  if (at === null) throw invalid([{ field: 'at', message: ISO_INSTANT_MESSAGE }]);
  return {
    surveyId: body.surveyId,
    at,
    label: body.label.trim(),
    annotationId: body.annotationId ?? null,
  };
}

/**
 * Annotations (what changed when) and the before/after comparison around one: did the change
 * help, overall, per channel and per theme.
 */
export function annotationRouter(deps: AnnotationRoutesDeps): Router {
  const router = Router();
  const json = jsonBody('16kb');

  router.post(
    '/v1/annotations',
    deps.requireScope('admin'),
    requireJson,
    json,
    async (req, res) => {
      const given = checkAnnotation(req.body);
      allowSurvey(res, given.surveyId);
      const annotation: Annotation = {
        annotationId: given.annotationId ?? randomUUID(),
        surveyId: given.surveyId,
        at: given.at,
        label: given.label,
        createdBy: String(res.locals.keyId ?? 'unknown'),
        createdAt: deps.now(),
      };
      // A retry with the same annotationId is answered with what was stored the first time.
      const existing =
        given.annotationId === null ? null : await deps.annotations.get(given.annotationId);
      if (existing) {
        if (
          existing.surveyId !== annotation.surveyId ||
          existing.at !== annotation.at ||
          existing.label !== annotation.label
        ) {
          throw new HttpProblem(
            409,
            'Conflict',
            `Annotation ${existing.annotationId} exists with other content`,
          );
        }
        res.status(200).json(view(existing));
        return;
      }
      await deps.annotations.write(annotation);
      res.status(201).location(`/v1/annotations/${annotation.annotationId}`).json(view(annotation));
    },
  );

  router.get('/v1/annotations', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, AnnotationListQuery, problems);
    const now = deps.now();
    // Without from and to: every annotation; to alone has no from to start at.
    if (q.from === undefined && q.to !== undefined)
      problems.push({ field: 'from', message: ISO_INSTANT_MESSAGE });
    const range =
      q.from === undefined
        ? { from: 0, to: now + 3650 * DAY }
        : rangeOf(q.from, q.to, now, problems);
    if (problems.length > 0 || range === null) throw invalid(problems);
    const { surveyId } = q;
    allowSurvey(res, surveyId);
    const list = await deps.annotations.list(surveyId, range.from, range.to);
    res.json({ surveyId, annotations: list.map(view) });
  });

  router.delete('/v1/annotations/:annotationId', deps.requireScope('admin'), async (req, res) => {
    const pathProblems = checkPath(req, AnnotationPath);
    if (pathProblems.length > 0) throw invalid(pathProblems);
    const id = String(req.params.annotationId);
    const existing = await deps.annotations.get(id);
    if (!existing) throw new HttpProblem(404, 'Not Found', `No annotation ${id}`);
    allowSurvey(res, existing.surveyId);
    await deps.annotations.write(existing, true, Math.max(deps.now(), existing.createdAt + 1));
    res.status(204).end();
  });

  router.get('/v1/nps/impact', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, ImpactQuery, problems);
    if (problems.length > 0) throw invalid(problems);
    const id = q.annotationId;
    const days = q.days ?? 14;
    const annotation = await deps.annotations.get(id);
    if (!annotation) throw new HttpProblem(404, 'Not Found', `No annotation ${id}`);
    allowSurvey(res, annotation.surveyId);
    const before = { from: annotation.at - days * DAY, to: annotation.at };
    const after = { from: annotation.at, to: annotation.at + days * DAY };
    const { surveyId } = annotation;
    const compare = async (channel: (typeof CHANNELS)[number] | null): Promise<NpsComparison> => {
      const [a, b] = await Promise.all([
        deps.responses.tally({ surveyId, channel, ...before }),
        deps.responses.tally({ surveyId, channel, ...after }),
      ]);
      return compareNps(a, b, { minResponses: deps.minResponses });
    };
    const [overall, perChannel, themesBefore, themesAfter] = await Promise.all([
      compare(null),
      Promise.all(CHANNELS.map(async (c) => [c, await compare(c)] as const)),
      deps.themes.tallies({ surveyId, channel: null, ...before }),
      deps.themes.tallies({ surveyId, channel: null, ...after }),
    ]);
    const themeIds = [
      ...new Set([...themesBefore.themes.keys(), ...themesAfter.themes.keys()]),
    ].sort();
    const empty = { promoters: 0, passives: 0, detractors: 0 };
    res.json({
      annotation: view(annotation),
      days,
      before: { from: new Date(before.from).toISOString(), to: new Date(before.to).toISOString() },
      after: { from: new Date(after.from).toISOString(), to: new Date(after.to).toISOString() },
      overall,
      channels: Object.fromEntries(perChannel),
      // Per theme: the NPS of the responses that mention it, before against after.
      themes: themeIds.map((theme) => ({
        theme,
        ...compareNps(
          themesBefore.themes.get(theme) ?? empty,
          themesAfter.themes.get(theme) ?? empty,
          {
            minResponses: deps.minResponses,
          },
        ),
      })),
    });
  });

  return router;
}
