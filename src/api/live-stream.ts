import type { Response } from 'express';
import type { Channel } from '../domain/response.js';
import type { WindowName } from '../domain/windows.js';
import type { LiveWindows } from '../storage/live-windows.js';
import { DEFAULT_MIN_RESPONSES } from '../domain/nps.js';
import { liveBody } from './live-body.js';
import type { LiveSegment } from './segment-query.js';

/**
 * Server-Sent Events of live scores. Subscribers of the same (survey, channel, window, segment
 * slice) share one poller that reads the window once a second, so Redis load grows with the
 * number of distinct windows watched, not with the number of dashboards. An `nps` event goes out
 * when the JSON changed; a comment line keeps idle connections open through proxies. With
 * `lastShift` the same poller also reads the latest shift of the survey (or of the channel) and
 * sends a `shift` event when it is a new one: only shifts found while the stream is open, never
 * one from before.
 */
export class LiveStream {
  readonly #minResponses: number;
  readonly #live: LiveWindows;
  readonly #intervalMs: number;
  readonly #heartbeatMs: number;
  readonly #now: () => number;
  readonly #lastShift:
    ((surveyId: string, channel: Channel | null) => Promise<string | null>) | undefined;
  readonly #topics = new Map<
    string,
    {
      subscribers: Set<Response>;
      last: string | null;
      /** The latest shift's JSON when the poller last looked; undefined before the first look. */
      lastShift: string | null | undefined;
      timer: NodeJS.Timeout;
      heartbeat: NodeJS.Timeout;
    }
  >();

  constructor(
    live: LiveWindows,
    options: {
      intervalMs?: number;
      heartbeatMs?: number;
      now?: () => number;
      /** Below this many responses a window is flagged lowSample. */
      minResponses?: number;
      /** The JSON of the latest shift of a survey (channel null) or channel, or null. */
      lastShift?: (surveyId: string, channel: Channel | null) => Promise<string | null>;
    } = {},
  ) {
    this.#live = live;
    this.#minResponses = options.minResponses ?? DEFAULT_MIN_RESPONSES;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#now = options.now ?? Date.now;
    this.#lastShift = options.lastShift;
  }

  subscribe(
    res: Response,
    surveyId: string,
    channel: Channel | null,
    window: WindowName,
    segment: LiveSegment | null = null,
  ): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 3000\n\n`);
    const slice = segment ? `${segment.key}\u0000${segment.value}` : '';
    const key = `${surveyId}\u0000${channel ?? ''}\u0000${window}\u0000${slice}`;
    let topic = this.#topics.get(key);
    if (!topic) {
      const subscribers = new Set<Response>();
      const poll = async () => {
        const [live, shift] = await Promise.all([
          liveBody(this.#live, surveyId, channel, window, this.#now(), this.#minResponses, segment),
          this.#lastShift?.(surveyId, channel),
        ]);
        const body = JSON.stringify(live);
        const current = this.#topics.get(key);
        if (!current) return;
        if (shift !== undefined) {
          const known = current.lastShift;
          current.lastShift = shift;
          if (known !== undefined && shift !== null && shift !== known)
            for (const sub of current.subscribers) sub.write(`event: shift\ndata: ${shift}\n\n`);
        }
        if (body === current.last) return;
        current.last = body;
        for (const sub of current.subscribers) sub.write(`event: nps\ndata: ${body}\n\n`);
      };
      topic = {
        subscribers,
        last: null,
        lastShift: undefined,
        // A failed read (Redis away) is skipped; the next tick tries again.
        timer: setInterval(() => void poll().catch(() => undefined), this.#intervalMs),
        heartbeat: setInterval(() => {
          for (const sub of subscribers) sub.write(': heartbeat\n\n');
        }, this.#heartbeatMs),
      };
      this.#topics.set(key, topic);
      void poll().catch(() => undefined);
    } else if (topic.last !== null) {
      res.write(`event: nps\ndata: ${topic.last}\n\n`);
    }
    topic.subscribers.add(res);
    res.on('close', () => {
      const current = this.#topics.get(key);
      if (!current) return;
      current.subscribers.delete(res);
      if (current.subscribers.size === 0) {
        clearInterval(current.timer);
        clearInterval(current.heartbeat);
        this.#topics.delete(key);
      }
    });
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const topic of this.#topics.values()) {
      clearInterval(topic.timer);
      clearInterval(topic.heartbeat);
      for (const sub of topic.subscribers) sub.end();
    }
    this.#topics.clear();
  }
}
