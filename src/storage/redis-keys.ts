import type { Channel } from '../domain/response.js';

/**
 * Every Redis key the pipeline writes, all under NPS_REDIS_PREFIX; the one place their formats are
 * written down. Scripts get whole keys as arguments, except the segment slices, which the batch
 * script appends to a bucket key (`<bucket>:<key>=<value>`, see {@link segmentSlice}).
 *
 * Live windows (LiveWindows):
 * - `live:<survey>:<channel or *>:<level>:<index>`: a bucket, hash p, s, d.
 * - `live:...:<index>:<key>=<value>`: the bucket of one segment value (URI-encoded key and value).
 * - `segvals:<survey>:<key>`: the set of a survey's tracked values of a segment key.
 * - `seen:<responseId>`: the first copy's "partition:offset".
 * - `fence:<topic>:<partition>`: the highest offset applied.
 * - `resp:<respondentId>`: the respondent index (responseId -> what erasure needs).
 * - `erased:<tag>`: the instant up to which a respondent is erased; `erasures`: a counter.
 *
 * Shift detectors (ShiftDetectors): `shift:<detector>`, `shift-last:<detector>`, `shifts:pending`.
 *
 * Invitations (InvitationMarks): `inv:<invitationId>`, `recontact:<respondentId>`,
 * `opened:<invitationId>`.
 */
export class RedisKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  bucket(surveyId: string, channel: Channel | null, level: string, index: number): string {
    return `${this.prefix}live:${surveyId}:${channel ?? '*'}:${level}:${index}`;
  }

  segmentValues(surveyId: string, key: string): string {
    return `${this.prefix}segvals:${surveyId}:${encodeURIComponent(key)}`;
  }

  seen(responseId: string): string {
    return `${this.prefix}seen:${responseId}`;
  }

  fence(topic: string, partition: number): string {
    return `${this.prefix}fence:${topic}:${partition}`;
  }

  respondentIndex(respondentId: string): string {
    return `${this.prefix}resp:${respondentId}`;
  }

  erased(tag: string): string {
    return `${this.prefix}erased:${tag}`;
  }

  get erasures(): string {
    return `${this.prefix}erasures`;
  }

  /**
   * What a Redis that lost its data must be rebuilt from nothing for (rebuild-live): buckets,
   * fences, first-copy marks and respondent indexes. The tracked segment values stay.
   */
  get rebuiltPatterns(): readonly string[] {
    return ['live:', 'fence:', 'seen:', 'resp:'].map((kind) => `${this.prefix}${kind}*`);
  }

  shiftState(detectorId: string): string {
    return `${this.prefix}shift:${detectorId}`;
  }

  lastShift(detectorId: string): string {
    return `${this.prefix}shift-last:${detectorId}`;
  }

  get pendingShifts(): string {
    return `${this.prefix}shifts:pending`;
  }

  invitation(invitationId: string): string {
    return `${this.prefix}inv:${invitationId}`;
  }

  /** Any key when there is no respondent (the reserve script then does not read it). */
  recontact(respondentId: string | null): string {
    return `${this.prefix}recontact:${respondentId ?? ''}`;
  }

  opened(invitationId: string): string {
    return `${this.prefix}opened:${invitationId}`;
  }

  /** The webhook retry schedule (src/events/webhook-queue.ts): jobs by due time. */
  get webhookDue(): string {
    return `${this.prefix}webhooks:due`;
  }

  get webhookJobs(): string {
    return `${this.prefix}webhooks:jobs`;
  }

  /** Followed by a job member: the marker of a delivered job. */
  get webhookDonePrefix(): string {
    return `${this.prefix}webhooks:done:`;
  }

  get subscriptionsVersion(): string {
    return `${this.prefix}webhooks:subscriptions-version`;
  }
}

/** The suffix of a bucket key that names one segment value's slice: `:<key>=<value>`, encoded. */
export function segmentSlice(key: string, value: string): string {
  return `:${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
}
