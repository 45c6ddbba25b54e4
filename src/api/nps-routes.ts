import express from 'express';
import type { Request, RequestHandler, Router } from 'express';
import type { Scope } from '../config/config.js';
import { summarize } from '../domain/nps.js';
import type { Channel, FieldProblem } from '../domain/response.js';
import type { WindowName } from '../domain/windows.js';
import { allowSurvey } from '../http/auth.js';
import { invalid } from '../http/problem.js';
import { checkQuery, rangeOf } from '../http/query.js';
import { HistoryQuery, LiveQuery } from '../http/schemas/read.js';
import type { AnnotationStore } from '../storage/annotations.js';
import type { History, Interval } from '../storage/history.js';
import type { LiveWindows } from '../storage/live-windows.js';
import { liveBody } from './live-body.js';
import type { LiveStream } from './live-stream.js';
import { liveSegmentParam, segmentParams } from './segment-query.js';
import type { LiveSegment } from './segment-query.js';

const MAX_HISTORY_BUCKETS = 5000;

export interface NpsRouteDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  /** Each route is served when its store is there (the api role). */
  readonly live?: LiveWindows;
  readonly history?: History;
  /** Server-Sent Events of live windows. */
  readonly stream?: LiveStream;
  /** Annotations, listed beside the history buckets they fall in. */
  readonly annotations?: AnnotationStore;
  /** Below this many responses a score is flagged lowSample (NPS_MIN_RESPONSES). */
  readonly minResponses: number;
  /** Segment keys live, stream and history can be filtered on (NPS_SEGMENT_KEYS). */
  readonly segmentKeys: readonly string[];
  readonly now: () => number;
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

/** The score: `GET /v1/nps/live`, `/v1/nps/stream` (SSE) and `/v1/nps/history`. */
export function npsRouter(deps: NpsRouteDeps): Router {
  const router = express.Router();
  const { requireScope, now, minResponses, segmentKeys } = deps;
  const { live, history } = deps;
  if (live) {
    router.get('/v1/nps/live', requireScope('read'), async (req, res) => {
      const { surveyId, channel, window, segment } = liveQuery(req, segmentKeys);
      allowSurvey(res, surveyId);
      res.json(await liveBody(live, surveyId, channel, window, now(), minResponses, segment));
    });
  }
  const { stream } = deps;
  if (stream) {
    router.get('/v1/nps/stream', requireScope('read'), (req, res) => {
      const { surveyId, channel, window, segment } = liveQuery(req, segmentKeys);
      allowSurvey(res, surveyId);
      stream.subscribe(res, surveyId, channel, window, segment);
    });
  }

  if (history) {
    router.get('/v1/nps/history', requireScope('read'), async (req, res) => {
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
  return router;
}
