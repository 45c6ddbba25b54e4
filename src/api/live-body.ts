import { summarize } from '../domain/nps.js';
import type { Channel } from '../domain/response.js';
import type { WindowName } from '../domain/windows.js';
import type { LiveWindows } from '../storage/live-windows.js';
import type { LiveSegment } from './segment-query.js';

/** The JSON of GET /v1/nps/live, also sent by the SSE stream; of one segment slice when given. */
export async function liveBody(
  live: LiveWindows,
  surveyId: string,
  channel: Channel | null,
  window: WindowName,
  nowMs: number,
  minResponses: number,
  segment: LiveSegment | null = null,
) {
  const bucket = segment && (await live.segmentBucket(surveyId, segment.key, segment.value));
  const { from, to, ...tally } = await live.read(
    surveyId,
    channel,
    window,
    nowMs,
    segment && bucket !== null ? { key: segment.key, bucket } : undefined,
  );
  return {
    surveyId,
    channel,
    ...(segment &&
      bucket !== null && {
        segment: { [segment.key]: bucket },
        // Past the tracked values the live windows know only their sum: say so, never pass the
        // other bucket off as the value asked for.
        ...(bucket !== segment.value && {
          note: `${segment.key}=${segment.value} is not among the values tracked live for this survey; these are the counts of all such values (${segment.key}=${bucket}). /v1/nps/history has exact counts per value.`,
        }),
      }),
    window,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    ...summarize(tally, minResponses),
  };
}
