import { createHash } from 'node:crypto';
import { classify } from './classification.js';
import type { Channel } from './response.js';
import { DEFAULT_SHIFT_OPTIONS, initialShiftState, observe } from './shift.js';
import type { ScoreValue, ShiftOptions, ShiftState } from './shift.js';

/** Name of the event a detected shift is published as (SSE `shift`, later webhooks). */
export const SHIFT_EVENT = 'nps.shift';

/**
 * The `nps.shift` payload, as JSON Schema: the OpenAPI document shows it as is, and
 * {@link ShiftEvent} is its type. Change the two together.
 */
export const SHIFT_EVENT_SCHEMA = {
  type: 'object',
  required: [
    'shiftId',
    'surveyId',
    'channel',
    'direction',
    'before',
    'after',
    'detectedAt',
    'responsesSinceChange',
  ],
  additionalProperties: false,
  properties: {
    shiftId: {
      type: 'string',
      description: 'Stable id of the shift: the same shift always has the same id.',
    },
    surveyId: { type: 'string' },
    channel: {
      oneOf: [{ $ref: '#/components/schemas/Channel' }, { type: 'null' }],
      description: 'The channel whose answers shifted; null for all channels together.',
    },
    direction: { type: 'string', enum: ['up', 'down'] },
    before: { type: 'number', description: 'NPS of the baseline before the change, points.' },
    after: { type: 'number', description: 'NPS of the answers since the change, points.' },
    detectedAt: {
      type: 'string',
      format: 'date-time',
      description: 'When the answer that made the change evident was received.',
    },
    responsesSinceChange: {
      type: 'integer',
      description: 'Answers since the estimated start of the change.',
    },
  },
} as const;

export interface ShiftEvent {
  readonly shiftId: string;
  readonly surveyId: string;
  readonly channel: Channel | null;
  readonly direction: 'up' | 'down';
  readonly before: number;
  readonly after: number;
  /** ISO-8601, UTC. */
  readonly detectedAt: string;
  readonly responsesSinceChange: number;
}

/** One detector's stored state: the detector's own state and a version bumped at every write. */
export interface VersionedShiftState {
  readonly version: number;
  readonly state: ShiftState;
}

/** Which detector an answer feeds: a survey over all channels, or one of its channels. */
export interface DetectorKey {
  readonly surveyId: string;
  readonly channel: Channel | null;
}

export function detectorId({ surveyId, channel }: DetectorKey): string {
  return channel === null ? surveyId : `${surveyId}:${channel}`;
}

/** One answer counted now, in stream order. */
export interface ShiftInput {
  readonly surveyId: string;
  readonly channel: Channel;
  readonly score: number;
  /** When the answer was received, epoch ms. */
  readonly atMs: number;
}

export interface ShiftBatch {
  /** The new state of every detector the answers fed, by detectorId. */
  readonly states: ReadonlyMap<string, VersionedShiftState>;
  /** The shifts found, in stream order. */
  readonly shifts: readonly ShiftEvent[];
}

const SCORE_VALUE = { promoter: 1, passive: 0, detractor: -1 } as const satisfies Record<
  string,
  ScoreValue
>;

/**
 * Feeds a batch of answers, in stream order, to the detectors of their survey and of their
 * survey and channel, starting from `stored` (a detector missing there starts from scratch).
 * Pure: the same stored states and answers give the same states and shifts, with the same ids.
 * A shift id is a hash of the detector, the version it was stored at before the batch, the
 * answer's place among that detector's answers in the batch and the detection time: unique (also
 * after Redis lost the versions and counts from 0 again), and a retry of the same write names the
 * same shift the same way.
 */
export function observeBatch(
  stored: ReadonlyMap<string, VersionedShiftState>,
  inputs: readonly ShiftInput[],
  options: ShiftOptions = DEFAULT_SHIFT_OPTIONS,
): ShiftBatch {
  const working = new Map<string, { from: number; state: ShiftState; seen: number }>();
  const shifts: ShiftEvent[] = [];
  for (const input of inputs) {
    const value = SCORE_VALUE[classify(input.score)];
    for (const key of [
      { surveyId: input.surveyId, channel: null },
      { surveyId: input.surveyId, channel: input.channel },
    ]) {
      const id = detectorId(key);
      let current = working.get(id);
      if (!current) {
        const before = stored.get(id);
        current = {
          from: before?.version ?? 0,
          state: before?.state ?? initialShiftState(),
          seen: 0,
        };
        working.set(id, current);
      }
      const { state, shift } = observe(current.state, value, input.atMs, options);
      current.state = state;
      current.seen += 1;
      if (shift) {
        shifts.push({
          shiftId: shiftId(id, current.from, current.seen, shift.detectedAtMs),
          surveyId: key.surveyId,
          channel: key.channel,
          direction: shift.direction,
          before: shift.before,
          after: shift.after,
          detectedAt: new Date(shift.detectedAtMs).toISOString(),
          responsesSinceChange: shift.responsesSinceChange,
        });
      }
    }
  }
  const states = new Map<string, VersionedShiftState>();
  for (const [id, { from, state }] of working) states.set(id, { version: from + 1, state });
  return { states, shifts };
}

function shiftId(detector: string, version: number, answer: number, atMs: number): string {
  return createHash('sha256')
    .update([detector, version, answer, atMs].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}
