import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Scope } from '../config/config.js';
import { DEFAULT_MIN_RESPONSES } from '../domain/nps.js';
import { describeError, NpsError } from '../errors.js';
import { HttpProblem, sendProblem } from '../http/problem.js';
import { limitFailuresByIp, authFailureCharge } from '../http/rate-limit.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { Metrics } from '../metrics.js';
import type { AnnotationStore } from '../storage/annotations.js';
import type { History } from '../storage/history.js';
import type { LiveWindows } from '../storage/live-windows.js';
import type { Eraser } from '../use-cases/erase-respondent.js';
import { erasureRouter } from './erasure-routes.js';
import type { LiveStream } from './live-stream.js';
import { npsRouter } from './nps-routes.js';
import { opsRouter } from './ops-routes.js';

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
  /** Key of the HMAC that ingest stores emails and phone numbers as (for erasure). */
  readonly pseudonymKey?: string;
  /** Base URL named in the OpenAPI document. */
  readonly publicBaseUrl: string;
  readonly metrics: Metrics;
  /** Present in processes with the api role. */
  readonly live?: LiveWindows;
  readonly history?: History;
  /** Server-Sent Events of live windows; with `live`. */
  readonly stream?: LiveStream;
  /** Ingest channels (web, SMS, email, links, invitations), mounted beside the API routes. */
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
  app.use(
    opsRouter({
      readiness: deps.readiness,
      metrics: deps.metrics,
      publicBaseUrl: deps.publicBaseUrl,
    }),
    npsRouter({
      requireScope,
      ...(deps.live && { live: deps.live }),
      ...(deps.history && { history: deps.history }),
      ...(deps.stream && { stream: deps.stream }),
      ...(deps.annotations && { annotations: deps.annotations }),
      minResponses,
      segmentKeys,
      now,
    }),
  );
  if (deps.live && deps.history) {
    app.use(
      erasureRouter({
        live: deps.live,
        history: deps.history,
        erasers: deps.erasers ?? [],
        pseudonymKey: deps.pseudonymKey,
        ...(deps.log && { log: deps.log }),
        requireScope,
        now,
      }),
    );
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
