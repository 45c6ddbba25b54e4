import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Scope } from '../config/config.js';
import { DEFAULT_MIN_RESPONSES, summarize } from '../domain/nps.js';
import { normalizedResponse, validateResponseInput } from '../domain/response.js';
import type { Channel, FieldProblem, NpsResponse, ResponseInput } from '../domain/response.js';
import type { WindowName } from '../domain/windows.js';
import { describeError, NpsError } from '../errors.js';
import type { Publisher } from '../ingest/publisher.js';
import { respondentIdFrom } from '../ingest/pseudonym.js';
import { erasureTag } from '../domain/erasure.js';
import type { History, Interval } from '../storage/history.js';
import type { LiveWindows } from '../storage/live-windows.js';
import type { AnnotationStore } from '../storage/annotations.js';
import { allowSurvey } from './auth.js';
import { jsonBody } from './body.js';
import { limitFailuresByIp, authFailureCharge } from './rate-limit.js';
import type { RateLimiter } from './rate-limit.js';
import { MAX_BATCH } from './limits.js';
import { liveBody } from './live-body.js';
import { openApiDocument } from './openapi.js';
import type { LiveStream } from './live-stream.js';
import type { Metrics } from './metrics.js';
import { HttpProblem, invalid, requireJson, sendProblem } from './problem.js';
import { checkPath, checkQuery, rangeOf } from './query.js';
import { HistoryQuery, LiveQuery } from './schemas/read.js';
import { ErasurePath } from './schemas/ops.js';
import { liveSegmentParam, segmentParams } from './segment-query.js';
import type { LiveSegment } from './segment-query.js';

const MAX_HISTORY_BUCKETS = 5000;

export interface AppDeps {
  /** Checks the bearer key for a scope (see auth.ts); shared with the ingest adapters. */
  readonly requireScope: (scope: Scope) => RequestHandler;
  /** Limits ingest, webhook and link posts per client address; none when undefined. */
  readonly ipLimit?: RateLimiter;
  /** Express `trust proxy`: how many reverse proxies' X-Forwarded-For to believe. */
  readonly trustProxy?: number;
  /** Origins allowed by CORS; empty for none. */
  readonly corsOrigins?: readonly string[];
  /** Where failures on our side are reported (never request bodies). */
  readonly log?: (message: string) => void;
  /** Key of the HMAC that replaces emails and phone numbers given as respondentId. */
  readonly pseudonymKey?: string;
  /** Base URL named in the OpenAPI document. */
  readonly publicBaseUrl: string;
  readonly metrics: Metrics;
  /** Present in processes with the ingest role. */
  readonly publisher?: Publisher;
  /** Present in processes with the api role. */
  readonly live?: LiveWindows;
  readonly history?: History;
  /** Server-Sent Events of live windows; with `live`. */
  readonly stream?: LiveStream;
  /** Ingest adapters (webhooks, links), mounted beside the API routes. */
  readonly adapters?: readonly Router[];
  /** Annotations, listed beside the history buckets they fall in. */
  readonly annotations?: AnnotationStore;
  /** Read resources with routers of their own (themes, terms). */
  readonly resources?: readonly Router[];
  /** The dashboard page, its assets and sign-in (src/dashboard); api role only. */
  readonly dashboard?: Router;
  /** Names the dependencies that do not answer; empty when ready. */
  readonly readiness: () => Promise<string[]>;
  readonly now?: () => number;
  /** Below this many responses a score is flagged lowSample (NPS_MIN_RESPONSES). */
  readonly minResponses?: number;
  /**
   * Further stores that hold a respondent's data (invitations, cases, queued events, ...): each
   * removes what it holds of `respondentId` from before `cut` (epoch ms) and says how many items.
   * Called after the live windows and history, in order; an erasure repeated after a failure
   * calls them again, so each must be idempotent.
   */
  readonly erasers?: readonly Eraser[];
  /** Segment keys live, stream and history can be filtered on (NPS_SEGMENT_KEYS). @default [] */
  readonly segmentKeys?: readonly string[];
}

/** One store's part of an erasure (see AppDeps.erasers). */
export interface Eraser {
  /** Names the count in the erasure answer, e.g. "casesDeleted". */
  readonly name: string;
  erase(respondentId: string, cut: number): Promise<number>;
}

function liveQuery(
  req: Request,
  segmentKeys: readonly string[],
): {
  surveyId: string;
  channel: Channel | null;
  window: WindowName;
  segment: LiveSegment | null;
} {
  const problems: FieldProblem[] = [];
  const q = checkQuery(req, LiveQuery, problems);
  if (problems.length > 0) throw invalid(problems);
  return {
    surveyId: q.surveyId,
    channel: q.channel ?? null,
    window: q.window ?? '24h',
    segment: liveSegmentParam(req, segmentKeys),
  };
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

export function createApp(deps: AppDeps): express.Express {
  const now = deps.now ?? Date.now;
  const minResponses = deps.minResponses ?? DEFAULT_MIN_RESPONSES;
  const segmentKeys = deps.segmentKeys ?? [];
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  if (deps.corsOrigins && deps.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: [...deps.corsOrigins],
        methods: ['GET', 'POST'],
        allowedHeaders: ['authorization', 'content-type'],
        maxAge: 600,
      }),
    );
  }
  app.set('query parser', 'simple');
  const { requireScope } = deps;
  app.set('trust proxy', deps.trustProxy ?? 0);
  if (deps.ipLimit) {
    app.post(
      [
        '/v1/responses',
        '/v1/invitations',
        '/v1/invitations/batch',
        '/v1/webhooks/*path',
        '/v1/r/*token',
        '/session',
      ],
      limitFailuresByIp(deps.ipLimit),
    );
  }
  const json = jsonBody('1mb', { anyType: true });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const down = await deps.readiness();
    if (down.length === 0) res.json({ status: 'ready' });
    else {
      res.setHeader('Retry-After', '5');
      sendProblem(
        res,
        new HttpProblem(503, 'Not ready', `unreachable: ${down.join(', ')}`, { unreachable: down }),
        '/readyz',
      );
    }
  });

  const openApi = JSON.stringify(openApiDocument(deps.publicBaseUrl));
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  const { publisher } = deps;
  if (publisher) {
    app.post('/v1/responses', requireScope('ingest'), requireJson, json, async (req, res) => {
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
  }

  const { live, history } = deps;
  if (live) {
    app.get('/v1/nps/live', requireScope('read'), async (req, res) => {
      const { surveyId, channel, window, segment } = liveQuery(req, segmentKeys);
      allowSurvey(res, surveyId);
      res.json(await liveBody(live, surveyId, channel, window, now(), minResponses, segment));
    });
  }
  const { stream } = deps;
  if (stream) {
    app.get('/v1/nps/stream', requireScope('read'), (req, res) => {
      const { surveyId, channel, window, segment } = liveQuery(req, segmentKeys);
      allowSurvey(res, surveyId);
      stream.subscribe(res, surveyId, channel, window, segment);
    });
  }

  if (history) {
    app.get('/v1/nps/history', requireScope('read'), async (req, res) => {
      const problems: FieldProblem[] = [];
      const q = checkQuery(req, HistoryQuery, problems);
      // The survey's permission first, as before the schema: a restricted key learns nothing more.
      if (!problems.some((p) => p.field === 'surveyId')) allowSurvey(res, q.surveyId);
      const range = rangeOf(q.from, q.to, now(), problems);
      const interval: Interval = q.interval ?? 'day';
      const segment = segmentParams(req, segmentKeys, problems);
      if (
        range &&
        interval === 'hour' &&
        (range.to - range.from) / 3_600_000 > MAX_HISTORY_BUCKETS
      ) {
        problems.push({
          field: 'from',
          message: `hourly history spans at most ${MAX_HISTORY_BUCKETS} hours`,
        });
      }
      if (problems.length > 0 || range === null) throw invalid(problems);
      const { surveyId, groupBy } = q;
      const { from, to } = range;
      const [series, annotations] = await Promise.all([
        history.series({
          surveyId,
          from,
          to,
          interval,
          byChannel: groupBy === 'channel',
          segment,
        }),
        deps.annotations?.list(surveyId, from, to) ?? [],
      ]);
      res.json({
        surveyId,
        interval,
        ...(Object.keys(segment).length > 0 && { segment }),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        series: series.map(({ start, channel, ...tally }) => ({
          start: new Date(start).toISOString(),
          ...(channel !== undefined && { channel }),
          ...summarize(tally, minResponses),
        })),
        // What changed in the range, for markers on the trend.
        annotations: annotations.map((a) => ({
          annotationId: a.annotationId,
          at: new Date(a.at).toISOString(),
          label: a.label,
        })),
      });
    });
  }

  if (live && history) {
    const pseudonymKey = deps.pseudonymKey;
    app.delete('/v1/respondents/:respondentId', requireScope('admin'), async (req, res) => {
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
      const given = String(req.params.respondentId);
      // Stored as ingest stores it: an email or phone number only as its keyed HMAC.
      const respondentId = respondentIdFrom(pseudonymKey, given);
      if (respondentId === null) {
        throw new HttpProblem(
          400,
          'Nothing to erase by',
          'Without NPS_PSEUDONYM_KEY no email or phone number is kept, so none can be erased by',
        );
      }
      const tag = erasureTag(pseudonymKey, respondentId);
      const at = now();
      // Remembered first, so that a failure half-way can be repeated and rebuild-live restores it.
      await history.recordErasure(tag, at);
      const { cut, removed } = await live.erase(respondentId, at);
      if (cut > at) await history.recordErasure(tag, cut);
      const deleted = await history.purge(respondentId, cut);
      const further: Record<string, number> = {};
      for (const eraser of deps.erasers ?? []) {
        further[eraser.name] = await eraser.erase(respondentId, cut);
      }
      deps.log?.(`erasure: ${deleted} stored and ${removed} live response(s) removed`);
      res.json({
        respondentId,
        erasedBefore: new Date(cut).toISOString(),
        historyResponsesDeleted: deleted,
        liveResponsesRemoved: removed,
        ...further,
      });
    });
  }

  for (const router of [...(deps.resources ?? []), ...(deps.adapters ?? [])]) app.use(router);
  if (deps.dashboard) app.use(deps.dashboard);

  app.use((req, _res, next) => {
    next(new HttpProblem(404, 'Not Found', `No route for ${req.method} ${req.path}`));
  });

  // Express recognises an error handler by its four parameters.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const found = toProblem(error);
    const problem = authFailureCharge(res.locals, found.status) ?? found;
    if (problem.status >= 500)
      deps.log?.(`${req.method} ${req.path} failed: ${describeError(error)}`);
    sendProblem(res, problem, req.path);
  });
  return app;
}

/** Converts anything thrown in a handler to a problem, once, here at the edge. */
function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof NpsError && error.code === 'SERVICE_UNAVAILABLE') {
    return new HttpProblem(
      503,
      'Service Unavailable',
      `${error.message}; nothing was recorded, retry later`,
      {},
      {
        'Retry-After': '5',
      },
    );
  }
  const e = error as { type?: string; status?: number };
  if (e.type === 'entity.too.large')
    return new HttpProblem(413, 'Content Too Large', 'The body is over 1 MB');
  if (e.type === 'entity.verify.failed')
    return new HttpProblem(400, 'Invalid encoding', 'The body is not valid UTF-8');
  if (e.type === 'entity.parse.failed')
    return new HttpProblem(400, 'Invalid JSON', 'The body is not valid JSON');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new HttpProblem(415, 'Unsupported Media Type', 'Send UTF-8 JSON');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpProblem(e.status, 'Bad Request', 'The request could not be read');
  }
  // Unknown failures: no internals (or personal data) in the answer.
  return new HttpProblem(500, 'Internal Server Error', 'Something failed on our side');
}
