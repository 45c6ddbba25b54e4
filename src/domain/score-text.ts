/**
 * Reading a 0-10 answer out of a free-text SMS or email reply, in English, Danish or Swedish.
 */

export interface ParsedReply {
  readonly score: number;
  /** What the respondent wrote besides the score, or null when nothing is left. */
  readonly comment: string | null;
}

// Where the quoted previous message starts: "On Mon, 3 Nov 2026 at 10:15, Shop <a@b> wrote:",
// "Den 3. nov. 2026 kl. 10.15 skrev Shop <a@b>:" (da), "Den 3 nov. 2026 kl. 10:15 skrev Shop:" (sv),
// and the forms Outlook and Gmail put in front of a quote.
const QUOTE_HEADERS = [
  /^\s*On\b.*\bwrote:\s*$/im,
  /^\s*(Den|D\.)\b.*\bskrev\b.*:\s*$/im,
  /^\s*-{2,}\s*(Original Message|Oprindelig meddelelse|Ursprungligt meddelande)\s*-{2,}\s*$/im,
  /^\s*(From|Fra|Från):\s.*$/im,
];

/** The reply without the quoted message below it and without "> " quoted lines. */
export function stripQuotedReply(text: string): string {
  let body = text.replace(/\r\n?/g, '\n');
  for (const header of QUOTE_HEADERS) {
    const match = header.exec(body);
    if (match) body = body.slice(0, match.index);
  }
  return body
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('>'))
    .join('\n')
    .trim();
}

// A standalone 0-10: not part of a longer number, a decimal, a time, a range or a date ("9/10" is fine).
const SCORE =
  /(?<![\p{L}\p{N}.,:/-])(10|[0-9])(?!\p{N})(?![.,:]\p{N})(?!-\p{N})(?!\/(?!\s*10\b)\s*\p{N})/u;
// "/10", "af 10", "av 10", "out of 10", "ud af 10" right after the score.
const OUT_OF_TEN = /^\s*(\/\s*10|(out of|ud af|utav|av|af|of)\s+10)\b/iu;
// Words that only introduce the score.
const LEAD_IN =
  /^\s*(score|rating|my score is|i give( it)?|i'd give( it)?|jeg giver( jer)?|jeg vil give|karakter|betyg|jag ger( er)?|svar|answer)\s*[:=-]?\s*$/iu;
const EDGE_PUNCTUATION = /^[\s,.;:!?\-–—)(]+|[\s,.;:\-–—(]+$/gu;

function tidy(text: string): string {
  return text.replace(EDGE_PUNCTUATION, '').replace(/\s+/g, ' ').trim();
}

/**
 * The first standalone integer 0-10 is the score; the rest of the reply, trimmed, is the comment.
 * Returns null when the reply holds no score, which must not be recorded.
 */
export function parseScoreReply(text: string): ParsedReply | null {
  const body = stripQuotedReply(text);
  const match = SCORE.exec(body);
  if (!match?.[1]) return null;
  const score = Number(match[1]);
  const before = body.slice(0, match.index);
  let after = body.slice(match.index + match[1].length);
  after = after.replace(OUT_OF_TEN, '');
  const lead = LEAD_IN.test(before) ? '' : tidy(before);
  const rest = tidy(after);
  const comment = [lead, rest].filter((part) => part !== '').join(' - ');
  return { score, comment: comment === '' ? null : comment };
}
