import { dan, eng, swe } from 'stopword';
import { detectLanguage } from './language.js';
import { stem, tokenize } from './text.js';
import type { Language } from './text.js';

/**
 * What the taxonomy does not know yet: the words and two-word phrases that set one group of
 * comments (the detractors, this week) apart from another (everyone else, last week), by the
 * weighted log-odds ratio with an informative Dirichlet prior of Monroe, Colaresi & Quinn (2008,
 * "Fightin' Words", section 3.5.1).
 *
 * For a term w with counts y_t, y_r in target and reference, group sizes n_t, n_r (all term
 * occurrences), and prior α_w = α0 · (y_t + y_r) / (n_t + n_r) from the pooled counts:
 *
 *   δ_w   = log((y_t + α_w) / (n_t + α0 - y_t - α_w)) - log((y_r + α_w) / (n_r + α0 - y_r - α_w))
 *   σ²_w ≈ 1 / (y_t + α_w) + 1 / (y_r + α_w)
 *   z_w   = δ_w / σ_w
 *
 * A rare term needs many more occurrences than a common one to reach the same z, which is what
 * keeps one angry comment from topping the list.
 */

export interface TermDoc {
  readonly text: string;
  /** The comment's language as tagged; null to detect it here (and, failing that, not stem). */
  readonly language: Language | null;
}

export interface DistinctiveTerm {
  /** The most frequent spelling of the term in both groups: "leveringstiden", "lang ventetid". */
  readonly term: string;
  /** The grouping key: Snowball stems, two of them for a phrase ("leveringstid", "lang ventetid"). */
  readonly stem: string;
  /** Occurrences in the target group. */
  readonly target: number;
  /** Occurrences in the reference group. */
  readonly reference: number;
  /** δ, the log-odds ratio of the term in target versus reference, shrunk toward the prior. */
  readonly logOdds: number;
  /** δ divided by its standard error; the list is sorted on it. */
  readonly z: number;
}

export interface DistinctiveTermsOptions {
  /**
   * How many terms to return.
   * @default 20
   */
  readonly limit?: number;
  /**
   * Fewest occurrences in the target group for a term to be listed.
   * @default 3
   */
  readonly minCount?: number;
  /**
   * α0, the weight of the prior in term occurrences. The default, the pooled number of
   * occurrences, makes each α_w the term's pooled count (Monroe et al.'s choice when no larger
   * background corpus is at hand).
   * @default n_t + n_r
   */
  readonly priorSize?: number;
}

// The stopword lists drop words a satisfaction survey needs: "långsam", "sent", "bra", "sämre"
// tell detractors from promoters. Contractions and "not" carry no topic and are dropped too.
const KEEP = new Set(
  `bra bättre bäst sämre sämst långsam långsamt långsamma långsammare sent senare lätt lättare
  enkel enkelt enkla god goda gott godt gode lille stor stora store större liten små ny nyt
  never`.split(/\s+/u),
);
const MORE_STOPWORDS = `not no yes it's i'm i've i'll i'd don't didn't doesn't isn't wasn't can't
  won't couldn't wouldn't haven't hasn't aren't weren't you're we're they're that's there's
  what's let's ok okay`.split(/\s+/u);

function stopwords(list: readonly string[]): Set<string> {
  return new Set([...list, ...MORE_STOPWORDS].filter((word) => !KEEP.has(word)));
}

const STOPWORDS: Readonly<Record<Language, ReadonlySet<string>>> = {
  da: stopwords(dan),
  sv: stopwords(swe),
  en: stopwords(eng),
};
const LETTER = /\p{L}/u;

interface Tally {
  target: number;
  reference: number;
  readonly forms: Map<string, number>;
}

function isStopword(word: string, language: Language | null): boolean {
  if (language !== null) return STOPWORDS[language].has(word);
  return STOPWORDS.da.has(word) || STOPWORDS.sv.has(word) || STOPWORDS.en.has(word);
}

/** Each unigram and two-word phrase of one comment as [stem key, surface form]. */
function termsOf(doc: TermDoc): [string, string][] {
  const language = doc.language ?? detectLanguage(doc.text).language;
  const terms: [string, string][] = [];
  let previous: [string, string] | null = null;
  for (const word of tokenize(doc.text)) {
    // Numbers, currency signs and the [email]/[phone] masks (already gone) are never terms.
    const plain = word.replace(/’/gu, "'");
    if (!LETTER.test(word) || word.length < 2 || isStopword(plain, language)) {
      previous = null;
      continue;
    }
    const key = language === null ? word : stem(word, language);
    terms.push([key, word]);
    // Phrases are of words next to each other in the comment; a dropped word breaks them.
    if (previous !== null) terms.push([`${previous[0]} ${key}`, `${previous[1]} ${word}`]);
    previous = [key, word];
  }
  return terms;
}

function mostFrequent(forms: ReadonlyMap<string, number>): string {
  let best = '';
  let bestCount = 0;
  for (const [form, count] of forms) {
    if (count > bestCount || (count === bestCount && form < best)) {
      best = form;
      bestCount = count;
    }
  }
  return best;
}

/**
 * The terms most over-represented in `target` relative to `reference`, sorted by z descending
 * (ties by stem), only those with z > 0 and at least `minCount` occurrences in the target.
 */
export function distinctiveTerms(
  target: readonly TermDoc[],
  reference: readonly TermDoc[],
  options: DistinctiveTermsOptions = {},
): DistinctiveTerm[] {
  const limit = options.limit ?? 20;
  const minCount = options.minCount ?? 3;
  const tallies = new Map<string, Tally>();
  const count = (docs: readonly TermDoc[], group: 'target' | 'reference'): number => {
    let n = 0;
    for (const doc of docs) {
      for (const [key, form] of termsOf(doc)) {
        let tally = tallies.get(key);
        if (tally === undefined) {
          tally = { target: 0, reference: 0, forms: new Map() };
          tallies.set(key, tally);
        }
        tally[group] += 1;
        tally.forms.set(form, (tally.forms.get(form) ?? 0) + 1);
        n += 1;
      }
    }
    return n;
  };
  const nTarget = count(target, 'target');
  const nReference = count(reference, 'reference');
  if (nTarget === 0 || nReference === 0) return [];
  const pooled = nTarget + nReference;
  const alpha0 = options.priorSize ?? pooled;
  const terms: DistinctiveTerm[] = [];
  for (const [key, tally] of tallies) {
    if (tally.target < minCount) continue;
    const alpha = (alpha0 * (tally.target + tally.reference)) / pooled;
    const logOdds =
      Math.log((tally.target + alpha) / (nTarget + alpha0 - tally.target - alpha)) -
      Math.log((tally.reference + alpha) / (nReference + alpha0 - tally.reference - alpha));
    const z = logOdds / Math.sqrt(1 / (tally.target + alpha) + 1 / (tally.reference + alpha));
    if (!(z > 0)) continue;
    terms.push({
      term: mostFrequent(tally.forms),
      stem: key,
      target: tally.target,
      reference: tally.reference,
      logOdds,
      z,
    });
  }
  terms.sort((a, b) => b.z - a.z || (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
  return terms.slice(0, limit);
}
