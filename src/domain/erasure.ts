import { createHmac } from 'node:crypto';

/**
 * What an erasure is remembered by: a keyed hash of the respondent id, never the id itself, so the
 * list of erased respondents (kept for good, to stop a Kafka replay bringing them back) holds no
 * identifier of theirs. Keyed with NPS_PSEUDONYM_KEY; without a key it is a plain hash.
 */
export function erasureTag(secret: string | undefined, respondentId: string): string {
  return `e_${createHmac('sha256', secret ?? 'nps-erasure')
    .update(respondentId)
    .digest('base64url')}`;
}
