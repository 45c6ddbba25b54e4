import type { Channel } from '../domain/response.js';
import { stableId } from '../domain/stable-id.js';

/**
 * The events the product publishes to `nps.events.v1` and delivers to subscriptions. An event's
 * id is derived from what it is about, never drawn at random, so that a replay of the stream (or a
 * retried produce) yields the same id and every consumer can fold repeats by it.
 */

export const EVENT_TYPES = [
  'response.created',
  'response.detractor',
  'case.updated',
  'nps.shift',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One event as it is kept on the events topic (JSON, key = surveyId). */
export interface NpsEvent<T = unknown> {
  /** Stable id: the same fact always has the same id (see {@link eventId}). */
  readonly id: string;
  readonly type: EventType;
  /** ISO-8601, UTC: when the fact happened (response received, case changed, shift detected). */
  readonly timestamp: string;
  readonly surveyId: string;
  /** The pseudonymous respondent the event is about, so erasure can withhold it; null if none. */
  readonly respondentId: string | null;
  readonly data: T;
}

/** `data` of `response.created` and `response.detractor`. */
export interface ResponseEventData {
  readonly responseId: string;
  readonly surveyId: string;
  readonly channel: Channel;
  readonly score: number;
  readonly category: 'promoter' | 'passive' | 'detractor';
  readonly comment: string | null;
  readonly language: string | null;
  readonly themes: readonly string[];
  readonly respondentId: string | null;
  readonly segment: Readonly<Record<string, string>>;
  /** ISO-8601, UTC. */
  readonly respondedAt: string;
  /** The follow-up case the response opens, or null when the case rule does not match it. */
  readonly caseId: string | null;
}

/** Where events go: the events topic in production. Resolves once every event is acknowledged. */
export interface EventSink {
  publish(events: readonly NpsEvent[]): Promise<void>;
}

/** The id of an event of `type` about `subject` (a response id, a case change id, a shift id). */
export function eventId(type: EventType, surveyId: string, subject: string): string {
  return `evt_${stableId(type, surveyId, subject)}`;
}
