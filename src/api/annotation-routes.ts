import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import { compareNps } from '../domain/compare.js';
import type { NpsComparison } from '../domain/compare.js';
import {
  CHANNELS,
  SURVEY_ID,
  SURVEY_ID_MESSAGE,
  hasControlCharacters,
  parseIsoInstant,
} from '../domain/response.js';
import type { FieldProblem } from '../domain/response.js';
import type { Annotation, AnnotationStore } from '../storage/annotations.js';
import type { ResponseStore } from '../storage/responses.js';
import type { ThemeStore } from '../storage/themes.js';
import { allowSurvey } from './auth.js';
import { jsonBody } from './body.js';
import { HttpProblem, invalid, requireJson } from './problem.js';
import { one, rangeParams, surveyParam } from './query.js';

const DAY = 86_400_000;
const MAX_LABEL = 200;
const ANNOTATION_ID = /^[A-Za-z0-9._-]{1,64}$/;

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
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const { surveyId, at, label, annotationId } = input;
  for (const field of Object.keys(input)) {
    if (!['surveyId', 'at', 'label', 'annotationId'].includes(field))
      problems.push({ field, message: 'is not a field of an annotation' });
  }
  if (typeof surveyId !== 'string' || !SURVEY_ID.test(surveyId))
    problems.push({ field: 'surveyId', message: SURVEY_ID_MESSAGE });
  const atMs = typeof at === 'string' ? parseIsoInstant(at) : null;
  if (atMs === null)
    problems.push({ field: 'at', message: 'must be an ISO-8601 date-time with a time zone' });
  if (
    typeof label !== 'string' ||
    label.trim() === '' ||
    label.length > MAX_LABEL ||
    hasControlCharacters(label)
  ) {
    problems.push({
      field: 'label',
      message: `must be 1-${MAX_LABEL} characters, no control characters`,
    });
  }
  if (
    annotationId !== undefined &&
    (typeof annotationId !== 'string' || !ANNOTATION_ID.test(annotationId))
  )
    problems.push({ field: 'annotationId', message: SURVEY_ID_MESSAGE });
  if (problems.length > 0) throw invalid(problems);
  return {
    surveyId: surveyId as string,
    at: atMs as number,
    label: (label as string).trim(),
    annotationId: (annotationId as string | undefined) ?? null,
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
    const surveyId = surveyParam(req, problems);
    const now = deps.now();
    const range =
      one(req, 'from') === undefined && one(req, 'to') === undefined
        ? { from: 0, to: now + 3650 * DAY }
        : rangeParams(req, now, problems);
    if (problems.length > 0 || range === null) throw invalid(problems);
    allowSurvey(res, surveyId);
    const list = await deps.annotations.list(surveyId, range.from, range.to);
    res.json({ surveyId, annotations: list.map(view) });
  });

  router.delete('/v1/annotations/:annotationId', deps.requireScope('admin'), async (req, res) => {
    const id = req.params.annotationId;
    if (typeof id !== 'string' || !ANNOTATION_ID.test(id))
      throw invalid([{ field: 'annotationId', message: SURVEY_ID_MESSAGE }]);
    const existing = await deps.annotations.get(id);
    if (!existing) throw new HttpProblem(404, 'Not Found', `No annotation ${id}`);
    allowSurvey(res, existing.surveyId);
    await deps.annotations.write(existing, true, Math.max(deps.now(), existing.createdAt + 1));
    res.status(204).end();
  });

  router.get('/v1/nps/impact', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const id = one(req, 'annotationId');
    if (id === undefined || !ANNOTATION_ID.test(id))
      problems.push({ field: 'annotationId', message: SURVEY_ID_MESSAGE });
    const days = Number(one(req, 'days') ?? '14');
    if (!Number.isInteger(days) || days < 1 || days > 365)
      problems.push({ field: 'days', message: 'must be an integer 1-365' });
    if (problems.length > 0 || id === undefined) throw invalid(problems);
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
