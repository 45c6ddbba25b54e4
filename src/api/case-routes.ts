import { createHash, randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import {
  CASE_STATUSES,
  byTime,
  foldCase,
  isOverdue,
  refusedTransition,
  summarizeCases,
} from '../domain/cases.js';
import type { CaseChange, CaseState, CaseStatus, OpenedCase } from '../domain/cases.js';
import { hasControlCharacters } from '../domain/response.js';
import type { FieldProblem } from '../domain/response.js';
import type { EventSink, NpsEvent } from '../events/types.js';
import { eventId } from '../events/types.js';
import type { CaseStore } from '../storage/cases.js';
import { allowSurvey } from './auth.js';
import { jsonBody } from './body.js';
import type { CaseMetrics } from './case-metrics.js';
import { HttpProblem, invalid, requireJson } from './problem.js';
import { one, rangeParams, surveyParam } from './query.js';

const CASE_ID = /^case_[A-Za-z0-9_-]{24}$/;
const THEME = /^[a-z0-9_-]{1,64}$/;
const MAX_ASSIGNEE = 200;
const MAX_NOTE = 5000;
const MAX_IDEMPOTENCY_KEY = 200;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

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

interface Patch {
  status?: CaseStatus;
  assignee?: string | null;
  note?: string;
}

function checkPatch(body: unknown): Patch {
  const input = (
    typeof body === 'object' && body !== null && !Array.isArray(body) ? body : null
  ) as Record<string, unknown> | null;
  if (input === null) throw invalid([{ field: '(body)', message: 'must be a JSON object' }]);
  const problems: FieldProblem[] = [];
  const patch: Patch = {};
  for (const field of Object.keys(input)) {
    if (!['status', 'assignee', 'note'].includes(field))
      problems.push({ field, message: 'is not a field of a case change' });
  }
  const { status, assignee, note } = input;
  if (status !== undefined) {
    if (typeof status !== 'string' || !(CASE_STATUSES as readonly string[]).includes(status))
      problems.push({ field: 'status', message: `must be one of ${CASE_STATUSES.join(', ')}` });
    else patch.status = status as CaseStatus;
  }
  if (assignee !== undefined) {
    if (
      assignee !== null &&
      (typeof assignee !== 'string' ||
        assignee.trim() === '' ||
        assignee.length > MAX_ASSIGNEE ||
        hasControlCharacters(assignee))
    )
      problems.push({
        field: 'assignee',
        message: `must be null or 1-${MAX_ASSIGNEE} characters, no control characters`,
      });
    else patch.assignee = assignee === null ? null : assignee.trim();
  }
  if (note !== undefined) {
    if (
      typeof note !== 'string' ||
      note.trim() === '' ||
      note.length > MAX_NOTE ||
      hasControlCharacters(note)
    )
      problems.push({
        field: 'note',
        message: `must be 1-${MAX_NOTE} characters, no control characters but line breaks`,
      });
    else patch.note = note.trim();
  }
  if (problems.length === 0 && Object.keys(patch).length === 0)
    problems.push({
      field: '(body)',
      message: 'must change at least one of status, assignee, note',
    });
  if (problems.length > 0) throw invalid(problems);
  return patch;
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

  async function found(caseId: unknown, res: Parameters<RequestHandler>[1]) {
    if (typeof caseId !== 'string' || !CASE_ID.test(caseId))
      throw invalid([
        { field: 'caseId', message: 'must be case_ and 24 characters of A-Z a-z 0-9 _ -' },
      ]);
    const opened = await deps.store.get(caseId);
    if (!opened) throw new HttpProblem(404, 'Not Found', `No case ${caseId}`);
    allowSurvey(res, opened.surveyId);
    return opened;
  }

  router.get('/v1/cases', casesOrAdmin, async (req, res) => {
    const problems: FieldProblem[] = [];
    const surveyId = one(req, 'surveyId') === undefined ? null : surveyParam(req, problems);
    const status = one(req, 'status') ?? null;
    if (status !== null && !(CASE_STATUSES as readonly string[]).includes(status))
      problems.push({ field: 'status', message: `must be one of ${CASE_STATUSES.join(', ')}` });
    const theme = one(req, 'theme') ?? null;
    if (theme !== null && !THEME.test(theme))
      problems.push({ field: 'theme', message: 'must be a theme id of a-z 0-9 _ -' });
    const rawCursor = one(req, 'cursor');
    const after = rawCursor === undefined ? null : readCursor(rawCursor, problems);
    const limit = Number(one(req, 'limit') ?? DEFAULT_PAGE);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
      problems.push({ field: 'limit', message: `must be an integer 1-${MAX_PAGE}` });
    if (problems.length > 0) throw invalid(problems);
    if (surveyId !== null) allowSurvey(res, surveyId);
    const restricted = res.locals.surveys as ReadonlySet<string> | null | undefined;
    const surveys = surveyId !== null ? [surveyId] : restricted ? [...restricted] : null;
    const page = await deps.store.list({
      surveys,
      status: status as CaseStatus | null,
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
    const surveyId = surveyParam(req, problems);
    const now = deps.now();
    const range = rangeParams(req, now, problems);
    if (problems.length > 0 || range === null) throw invalid(problems);
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
    const opened = await found(req.params.caseId, res);
    const [state] = await states([opened]);
    if (!state) throw new HttpProblem(404, 'Not Found', `No case ${opened.caseId}`);
    res.json({ ...view(state, deps.now()), changes: state.changes.map(changeView) });
  });

  router.patch('/v1/cases/:caseId', casesOrAdmin, requireJson, json, async (req, res) => {
    const problems: FieldProblem[] = [];
    const idempotencyKey = req.get('idempotency-key');
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey === '' ||
        idempotencyKey.length > MAX_IDEMPOTENCY_KEY ||
        hasControlCharacters(idempotencyKey))
    )
      problems.push({
        field: 'Idempotency-Key',
        message: `must be 1-${MAX_IDEMPOTENCY_KEY} characters, no control characters`,
      });
    if (problems.length > 0) throw invalid(problems);
    const patch = checkPatch(req.body);
    const opened = await found(req.params.caseId, res);
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
