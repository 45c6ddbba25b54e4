import type { NpsEvent, ResponseEventData } from './types.js';

type Lang = 'da' | 'sv' | 'en';

// Short texts in the survey's language; a taxonomy-like list people tune would be a data file,
// these few words are not.
const TEXTS: Record<
  Lang,
  {
    detractor: string;
    response: string;
    comment: string;
    themes: string;
    case: string;
    shift: string;
  }
> = {
  da: {
    detractor: 'Ny kritiker',
    response: 'Nyt svar',
    comment: 'Kommentar',
    themes: 'Emner',
    case: 'Åbn sagen',
    shift: 'NPS har flyttet sig',
  },
  sv: {
    detractor: 'Ny kritiker',
    response: 'Nytt svar',
    comment: 'Kommentar',
    themes: 'Ämnen',
    case: 'Öppna ärendet',
    shift: 'NPS har förändrats',
  },
  en: {
    detractor: 'New detractor',
    response: 'New response',
    comment: 'Comment',
    themes: 'Themes',
    case: 'Open the case',
    shift: 'NPS has shifted',
  },
};

function lang(language: string | null | undefined): Lang {
  return language === 'da' || language === 'sv' ? language : 'en';
}

/** Slack's mrkdwn treats &, < and > as markup. */
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * A Slack incoming-webhook message for an event: a headline with the score, the comment, the
 * themes and a link to the case, in the survey's language (da, sv, else en).
 */
export function slackMessage(
  event: NpsEvent,
  publicBaseUrl: string,
): { text: string; blocks: unknown[] } {
  if (event.type === 'response.created' || event.type === 'response.detractor') {
    const data = event.data as ResponseEventData;
    const t = TEXTS[lang(data.language)];
    const headline = `${event.type === 'response.detractor' ? t.detractor : t.response}: ${data.score}/10 (${escape(data.surveyId)}, ${data.channel})`;
    const lines = [`*${headline}*`];
    if (data.comment) lines.push(`${t.comment}: ${escape(data.comment)}`);
    if (data.themes.length > 0) lines.push(`${t.themes}: ${data.themes.map(escape).join(', ')}`);
    if (data.caseId)
      lines.push(`<${publicBaseUrl}/#/cases/${encodeURIComponent(data.caseId)}|${t.case}>`);
    return {
      text: lines.join('\n'),
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }],
    };
  }
  const data = event.data as { before?: number; after?: number };
  const text =
    event.type === 'nps.shift' && typeof data.before === 'number' && typeof data.after === 'number'
      ? `*${TEXTS.en.shift}* (${escape(event.surveyId)}): ${Math.round(data.before)} → ${Math.round(data.after)}`
      : `*${event.type}* (${escape(event.surveyId)})`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
