import { createHash, randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import { byTime, foldCase, isOverdue, refusedTransition, summarizeCases } from '../domain/cases.js';
import type { CaseChange, CaseState, OpenedCase } from '../domain/cases.js';
import { conforms, schemaProblems } from '../domain/schema.js';
import type { Static } from '@sinclair/typebox';
import type { FieldProblem } from '../domain/response.js';
import type { EventSink, NpsEvent } from '../events/types.js';
import { eventId } from '../events/types.js';
import type { CaseStore } from '../storage/cases.js';
import { allowSurvey } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import type { CaseMetrics } from './case-metrics.js';
import { HttpProblem, invalid, requireJson } from '../http/problem.js';
import { checkPath, checkQuery, rangeOf } from '../http/query.js';
import {
  CASE_ID_PATTERN,
  CaseChangeHeaders,
  CaseChangeSchema,
  CaseListQuery,
  CasePath,
  CaseSummaryQuery,
} from '../http/schemas/cases.js';

const CASE_ID = new RegExp(CASE_ID_PATTERN);
const DEFAULT_PAGE = 50;

export interface CaseRoutesDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly store: CaseStore;
  /** Where every change is published as `case.updated`. */
  readonly events: EventSink;
  readonly metrics: CaseMetrics;
  readonly now: () => number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function view(s: CaseState, now: number) {
  return {
    caseId: s.caseId,
    responseId: s.responseId,
    surveyId: s.surveyId,
    channel: s.channel,
    score: s.score,
    comment: s.comment,
    themes: s.themes,
    respondentId: s.respondentId,
    status: s.status,
    assignee: s.assignee,
    openedAt: iso(s.openedAt),
    firstContactAt: iso(s.firstContactAt),
    resolvedAt: iso(s.resolvedAt),
    dueAt: iso(s.dueAt),
    overdue: isOverdue(s, now),
    notes: s.notes.map((n) => ({ at: iso(n.at), by: n.by, note: n.note })),
    laterScore: s.laterScore,
    recovered: s.recovered,
  };
}

function changeView(c: CaseChange) {
  return {
    changeId: c.changeId,
    at: iso(c.at),
    by: c.by,
    ...(c.status !== null && { status: c.status }),
    ...(c.assignee !== undefined && { assignee: c.assignee }),
    ...(c.note !== null && { note: c.note }),
  };
}

/** The cursor after `c`: opaque to clients, (openedAt, caseId) inside. */
function cursorAfter(c: OpenedCase): string {
  return Buffer.from(JSON.stringify([c.openedAt, c.caseId])).toString('base64url');
}

function readCursor(raw: string, problems: FieldProblem[]) {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(parsed) &&
      Number.isSafeInteger(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      CASE_ID.test(parsed[1])
    )
      return { openedAt: parsed[0] as number, caseId: parsed[1] };
  } catch {
    // Reported below.
  }
  problems.push({ field: 'cursor', message: 'is not a cursor this API gave out' });
  return null;
}

type Patch = Static<typeof CaseChangeSchema>;

function checkPatch(body: unknown): Patch {
  const problems = schemaProblems(CaseChangeSchema, body);
  if (problems.length > 0 || !conforms(CaseChangeSchema, body)) throw invalid(problems);
  return {
    ...(body.status !== undefined && { status: body.status }),
    ...(body.assignee !== undefined && { assignee: body.assignee?.trim() ?? null }),
    ...(body.note !== undefined && { note: body.note.trim() }),
  };
}

/**
 * Follow-up cases: list, read, change (status, assignee, notes) and the SLA and recovery summary.
 * Each change is kept with who made it and when, and published as `case.updated`.
 */
export function caseRouter(deps: CaseRoutesDeps): Router {
  const router = Router();
  const json = jsonBody('64kb');
  // The cases scope is for the people who call customers back; admin keys may do it too.
  const casesOrAdmin: RequestHandler = (req, res, next) => {
    deps.requireScope('cases')(req, res, (error?: unknown) => {
      if (error instanceof HttpProblem && error.status === 403)
        deps.requireScope('admin')(req, res, next);
      else next(error);
    });
  };

  /** The cases' current states; with `upTo`, a case's state as that change of it left it. */
  async function states(opened: readonly OpenedCase[], upTo?: CaseChange): Promise<CaseState[]> {
    const ids = opened.map((c) => c.caseId);
    const [changes, later] = await Promise.all([
      deps.store.changes(ids),
      deps.store.laterAnswers(opened),
    ]);
    return opened.map((c) => {
      const all = changes.get(c.caseId) ?? [];
      const kept = upTo ? all.filter((change) => byTime(change, upTo) <= 0) : all;
      return foldCase(c, kept, later.get(c.caseId) ?? null);
    });
  }

  async function found(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]) {
    const problems = checkPath(req, CasePath);
    if (problems.length > 0) throw invalid(problems);
    const caseId = String(req.params.caseId);
    const opened = await deps.store.get(caseId);
    if (!opened) throw new HttpProblem(404, 'Not Found', `No case ${caseId}`);
    allowSurvey(res, opened.surveyId);
    return opened;
  }

  router.get('/v1/cases', casesOrAdmin, async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, CaseListQuery, problems);
    const after = q.cursor === undefined ? null : readCursor(q.cursor, problems);
    if (problems.length > 0) throw invalid(problems);
    const surveyId = q.surveyId ?? null;
    const status = q.status ?? null;
    const theme = q.theme ?? null;
    const limit = q.limit ?? DEFAULT_PAGE;
    if (surveyId !== null) allowSurvey(res, surveyId);
    const restricted = res.locals.surveys as ReadonlySet<string> | null | undefined;
    const surveys = surveyId !== null ? [surveyId] : restricted ? [...restricted] : null;
    const page = await deps.store.list({
      surveys,
      status,
      theme,
      after,
      limit: limit + 1,
    });
    const shown = page.slice(0, limit);
    const last = shown.at(-1);
    const now = deps.now();
    res.json({
      cases: (await states(shown)).map((s) => view(s, now)),
      nextCursor: page.length > limit && last ? cursorAfter(last) : null,
    });
  });

  router.get('/v1/cases/summary', casesOrAdmin, async (req, res) => {
    const problems: FieldProblem[] = [];
    const q = checkQuery(req, CaseSummaryQuery, problems);
    const now = deps.now();
    const range = rangeOf(q.from, q.to, now, problems);
    if (problems.length > 0 || range === null) throw invalid(problems);
    const { surveyId } = q;
    allowSurvey(res, surveyId);
    const opened = await deps.store.openedBetween(surveyId, range.from, range.to);
    res.json({
      surveyId,
      from: iso(range.from),
      to: iso(range.to),
      ...summarizeCases(await states(opened), now),
    });
  });

  router.get('/v1/cases/:caseId', casesOrAdmin, async (req, res) => {
    const opened = await found(req, res);
    const [state] = await states([opened]);
    if (!state) throw new HttpProblem(404, 'Not Found', `No case ${opened.caseId}`);
    res.json({ ...view(state, deps.now()), changes: state.changes.map(changeView) });
  });

  router.patch('/v1/cases/:caseId', casesOrAdmin, requireJson, json, async (req, res) => {
    const idempotencyKey = req.get('idempotency-key');
    const problems = schemaProblems(CaseChangeHeaders, {
      ...(idempotencyKey !== undefined && { 'Idempotency-Key': idempotencyKey }),
    });
    if (problems.length > 0) throw invalid(problems);
    const patch = checkPatch(req.body);
    const opened = await found(req, res);
    const [current] = await states([opened]);
    if (!current) throw new HttpProblem(404, 'Not Found', `No case ${opened.caseId}`);
    const changeId =
      idempotencyKey === undefined
        ? `chg_${randomUUID()}`
        : `chg_${createHash('sha256').update(opened.caseId).update('\u0000').update(idempotencyKey).digest('base64url').slice(0, 32)}`;
    // A retry of a change already kept: never kept twice, published again as it was (same event
    // id and data, so consumers fold it), in case the first attempt failed after the insert.
    const retried = current.changes.find((c) => c.changeId === changeId);
    if (retried) {
      const differs =
        (patch.note ?? null) !== retried.note ||
        (patch.status !== undefined &&
          retried.status !== null &&
          patch.status !== retried.status) ||
        (patch.assignee !== undefined &&
          retried.assignee !== undefined &&
          patch.assignee !== retried.assignee);
      if (differs)
        throw new HttpProblem(
          409,
          'Conflict',
          'This Idempotency-Key was used for another change of this case',
        );
      const [then] = await states([opened], retried);
      if (then) await publish(then, retried);
      res.json(view(current, deps.now()));
      return;
    }
    if (patch.status !== undefined) {
      const refused = refusedTransition(current.status, patch.status);
      if (refused) throw new HttpProblem(409, 'Conflict', refused);
    }
    // Only what changes anything is kept: a PATCH repeated without a key sets the same state.
    const status =
      patch.status !== undefined && patch.status !== current.status ? patch.status : null;
    const assignee =
      patch.assignee !== undefined && patch.assignee !== current.assignee
        ? patch.assignee
        : undefined;
    const note = patch.note ?? null;
    if (status === null && assignee === undefined && note === null) {
      res.json(view(current, deps.now()));
      return;
    }
    const lastAt = current.changes.at(-1)?.at ?? current.openedAt;
    const change: CaseChange = {
      changeId,
      caseId: opened.caseId,
      by: String(res.locals.keyId ?? 'unknown'),
      // Strictly after the case's last change, so time order is the order they were made in.
      at: Math.max(deps.now(), lastAt + 1),
      status,
      ...(assignee !== undefined && { assignee }),
      note,
    };
    await deps.store.addChange(change, opened.surveyId);
    const [updated] = await states([opened]);
    if (!updated) throw new HttpProblem(404, 'Not Found', `No case ${opened.caseId}`);
    if (current.firstContactAt === null && updated.firstContactAt !== null)
      deps.metrics.timeToFirstContact.observe((updated.firstContactAt - updated.openedAt) / 1000);
    await publish(updated, change);
    res.json(view(updated, deps.now()));
  });

  async function publish(state: CaseState, change: CaseChange): Promise<void> {
    const event: NpsEvent = {
      id: eventId('case.updated', state.surveyId, change.changeId),
      type: 'case.updated',
      timestamp: new Date(change.at).toISOString(),
      surveyId: state.surveyId,
      respondentId: state.respondentId,
      data: { ...view(state, change.at), changeId: change.changeId, changedBy: change.by },
    };
    await deps.events.publish([event]);
  }

  return router;
}
