import { summarize } from '../domain/nps.js';
import type { Channel } from '../domain/response.js';
import type { WindowName } from '../domain/windows.js';
import type { LiveWindows } from '../storage/live-windows.js';

/** The JSON of GET /v1/nps/live, also sent by the SSE stream. */
export async function liveBody(
  live: LiveWindows,
  surveyId: string,
  channel: Channel | null,
  window: WindowName,
  nowMs: number,
  minResponses: number,
) {
  const { from, to, ...tally } = await live.read(surveyId, channel, window, nowMs);
  return {
    surveyId,
    channel,
    window,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    ...summarize(tally, minResponses),
  };
}
