import { classify } from './classification.js';

/**
 * Which responses open a follow-up case (NPS_CASE_RULE). The default opens one per detractor.
 * Both the events (their `caseId`) and the cases store decide with this one function, so an event
 * never names a case that is not opened, nor the reverse.
 */
export interface CaseRule {
  /** Readable form, as configured. */
  readonly text: string;
  matches(response: CaseCandidate): boolean;
}

/** What a rule can look at: the score and the themes the processor tagged. */
export interface CaseCandidate {
  readonly score: number;
  readonly themes: readonly string[] | null;
}

export const DEFAULT_CASE_RULE: CaseRule = {
  text: 'detractor',
  matches: (response) => classify(response.score) === 'detractor',
};

const CATEGORIES = ['detractor', 'passive', 'promoter'] as const;
const THEME_ID = /^[a-z0-9_-]{1,64}$/;
const SCORE_TERM = /^score\s*(<=|>=|<|>|=)\s*(\d{1,2})$/;

type Test = (response: CaseCandidate) => boolean;

function scoreTest(op: string, bound: number): Test {
  switch (op) {
    case '<=':
      return (r) => r.score <= bound;
    case '>=':
      return (r) => r.score >= bound;
    case '<':
      return (r) => r.score < bound;
    case '>':
      return (r) => r.score > bound;
    default:
      return (r) => r.score === bound;
  }
}

function term(raw: string): Test {
  const text = raw.trim().toLowerCase();
  if ((CATEGORIES as readonly string[]).includes(text)) return (r) => classify(r.score) === text;
  const score = SCORE_TERM.exec(text);
  if (score?.[1] && score[2]) {
    const bound = Number(score[2]);
    if (bound > 10) throw new Error(`has "${raw.trim()}": a score bound is 0-10`);
    return scoreTest(score[1], bound);
  }
  if (text.startsWith('theme:')) {
    const theme = text.slice('theme:'.length).trim();
    if (!THEME_ID.test(theme)) throw new Error(`has "${raw.trim()}": a theme id is [a-z0-9_-]`);
    return (r) => (r.themes ?? []).includes(theme);
  }
  throw new Error(
    `has "${raw.trim()}", not detractor, passive, promoter, score<=N (or <, >=, >, =) or theme:<id>`,
  );
}

/**
 * Reads an NPS_CASE_RULE: alternatives separated by `|`, each a `,`-separated list of terms that
 * must all hold. A term is a category (`detractor`, `passive`, `promoter`), a score bound
 * (`score<=4`, also `<`, `>=`, `>`, `=`) or a theme the processor tagged (`theme:billing`). So
 * `detractor,theme:billing` opens a case for detractors who write about billing, and
 * `theme:delivery|score<=2` for anyone who writes about delivery and every 0-2. Throws an Error
 * naming the bad part; config wraps it with the variable's name.
 */
export function parseCaseRule(text: string): CaseRule {
  const normalized = text.trim();
  if (normalized === '') throw new Error('must not be empty');
  const alternatives = normalized.split('|').map((alternative) => {
    const terms = alternative.split(',');
    if (terms.some((t) => t.trim() === ''))
      throw new Error(`has an empty term in "${alternative.trim()}"`);
    return terms.map(term);
  });
  return {
    text: normalized,
    matches: (response) => alternatives.some((all) => all.every((test) => test(response))),
  };
}
