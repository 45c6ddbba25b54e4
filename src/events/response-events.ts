import { classify } from '../domain/classification.js';
import type { NpsResponse } from '../domain/response.js';
import type { ShiftEvent } from '../domain/shift-event.js';
import type { CaseRule } from '../domain/case-rule.js';
import { caseIdFor } from '../domain/cases.js';
import { eventId } from './types.js';
import type { NpsEvent, ResponseEventData } from './types.js';

/**
 * The events one counted response stands for: `response.created` always, `response.detractor`
 * for a detractor too. Ids come from the response, so a replay derives the same events.
 */
export function responseEvents(response: NpsResponse, caseRule: CaseRule): NpsEvent[] {
  const category = classify(response.score);
  const themes = response.themes ?? [];
  const data: ResponseEventData = {
    responseId: response.responseId,
    surveyId: response.surveyId,
    channel: response.channel,
    score: response.score,
    category,
    comment: response.comment,
    language: response.language ?? languageOf(response.locale),
    themes,
    respondentId: response.respondentId,
    segment: response.segment,
    respondedAt: new Date(response.respondedAt).toISOString(),
    caseId: caseRule.matches({ score: response.score, themes })
      ? caseIdFor(response.surveyId, response.responseId)
      : null,
  };
  const types =
    category === 'detractor'
      ? (['response.created', 'response.detractor'] as const)
      : (['response.created'] as const);
  return types.map((type) => ({
    id: eventId(type, response.surveyId, response.responseId),
    type,
    // Received, not responded: erasure cuts by receipt time, and the deliverer compares with it.
    timestamp: new Date(response.receivedAt).toISOString(),
    surveyId: response.surveyId,
    respondentId: response.respondentId,
    data,
  }));
}

/** The `nps.shift` event of a detected shift. */
export function shiftEvent(shift: ShiftEvent): NpsEvent<ShiftEvent> {
  return {
    id: eventId('nps.shift', shift.surveyId, shift.shiftId),
    type: 'nps.shift',
    timestamp: shift.detectedAt,
    surveyId: shift.surveyId,
    respondentId: null,
    data: shift,
  };
}

/** da, sv or en from a locale such as da-DK, when the comment had no language of its own. */
function languageOf(locale: string | null): string | null {
  const lang = locale?.slice(0, 2).toLowerCase();
  return lang === 'da' || lang === 'sv' || lang === 'en' ? lang : null;
}
