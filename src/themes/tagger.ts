import { applyHint, detectLanguageOfTokens } from './language.js';
import type { Taxonomy, ThemeVocabulary } from './taxonomy.js';
import { LANGUAGES, asciiVariants, stem, tokenize } from './text.js';
import type { Language } from './text.js';

export interface ThemeTags {
  readonly language: Language | null;
  /** Theme ids the comment mentions, whatever it says about them; sorted, each once. */
  readonly themes: readonly string[];
}

export interface Tagger {
  /** The taxonomy version, to be stored with every tag. */
  readonly version: string;
  /**
   * Tags one comment. Pass the comment as it is stored, after `maskContacts`: the masks are
   * skipped, so tags describe the stored text. `hint` is a locale, "und-DK" or Accept-Language.
   */
  tag(comment: string, hint?: string | null): ThemeTags;
}

/**
 * Below this confidence the language detected from the text alone is not trusted to pick the
 * vocabulary: the comment is matched against all three (short comments, and mixed ones like
 * "God value for money").
 */
export const VOCABULARY_CONFIDENCE = 0.9;

// A signal is a theme index and whether the word is a weak one: index * 2 + (weak ? 1 : 0).
type Signal = number;
type PatternKind = 'exact' | 'prefix' | 'suffix' | 'infix';

interface Pattern {
  readonly kind: PatternKind;
  readonly text: string;
  readonly signal: Signal;
}

interface Phrase {
  readonly rest: readonly string[];
  readonly signal: Signal;
}

/** One language's vocabulary of every theme, as lookups. */
interface CompiledLanguage {
  readonly language: Language;
  readonly stems: Map<string, Signal[]>;
  readonly exact: Map<string, Signal[]>;
  readonly affixes: Pattern[];
  readonly phrases: Map<string, Phrase[]>;
  readonly together: { readonly stems: readonly string[]; readonly signal: Signal }[];
  /** Exclusions hold theme indexes, not signals: they silence weak and strong words alike. */
  readonly exactExclusions: Map<string, number[]>;
  readonly affixExclusions: Pattern[];
  readonly phraseExclusions: Map<string, Phrase[]>;
  /** The first letters of every stem above (see `stemOf`). */
  readonly stemStarts: Set<string>;
  /** Per word: its stem (for phrases) and the signals the word gives by itself. */
  readonly words: Map<string, WordMatch>;
}

interface WordMatch {
  readonly stem: string;
  readonly signals: readonly Signal[];
}

const NONE: readonly number[] = [];
// The word cache is bounded so a stream of typos cannot grow it without end; the vocabulary of
// comments is small enough that it rarely fills.
const MAX_CACHED_WORDS = 50_000;
// Snowball cuts some words to a short stem shared with unrelated words ("billig" -> "bil", the
// car; "vänlig" -> "vän", a friend). A term whose stem is this short and not the term itself is
// matched as a prefix of its own spelling instead.
const MIN_STEM = 5;
// Snowball only takes letters off the end, so a word whose first letters begin no stem of the
// vocabulary cannot stem to one; such words skip the stemmer, which is the slow part of matching
// a word never seen before.
const STEM_START = 3;
const JOINERS = /[-'’]/u;
const JOINERS_ALL = /[-'’]/gu;

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

function words(text: string): string[] {
  return tokenize(text).map((word) => word.replace(JOINERS_ALL, ''));
}

function parsePattern(pattern: string, signal: Signal): Pattern[] {
  const starts = pattern.startsWith('*');
  const ends = pattern.length > 1 && pattern.endsWith('*');
  const literal = pattern.slice(starts ? 1 : 0, ends ? -1 : undefined).replace(JOINERS_ALL, '');
  const kind: PatternKind =
    starts && ends ? 'infix' : starts ? 'suffix' : ends ? 'prefix' : 'exact';
  return asciiVariants(literal).map((text) => ({ kind, text, signal }));
}

function addPattern(compiled: CompiledLanguage, pattern: Pattern): void {
  if (pattern.kind === 'exact') push(compiled.exact, pattern.text, pattern.signal);
  else compiled.affixes.push(pattern);
}

function addTerm(compiled: CompiledLanguage, term: string, signal: Signal): void {
  const { language } = compiled;
  if (term.includes(' + ')) {
    const stems = term.split(' + ').map((word) => stem(words(word)[0] ?? '', language));
    compiled.together.push({ stems, signal });
    return;
  }
  for (const variant of asciiVariants(term)) {
    const [first = '', ...others] = words(variant);
    if (others.length > 0) {
      const list = compiled.phrases.get(stem(first, language)) ?? [];
      list.push({ rest: others.map((word) => stem(word, language)), signal });
      compiled.phrases.set(stem(first, language), list);
      continue;
    }
    const root = stem(first, language);
    if (root.length < MIN_STEM && root !== first) {
      addPattern(compiled, { kind: 'prefix', text: first, signal });
    } else {
      push(compiled.stems, root, signal);
    }
  }
}

function addExclusion(compiled: CompiledLanguage, exclusion: string, theme: number): void {
  if (exclusion.includes(' ')) {
    const [first = '', ...others] = words(exclusion).map((word) => stem(word, compiled.language));
    const list = compiled.phraseExclusions.get(first) ?? [];
    list.push({ rest: others, signal: theme });
    compiled.phraseExclusions.set(first, list);
    return;
  }
  for (const pattern of parsePattern(exclusion, theme)) {
    if (pattern.kind === 'exact') push(compiled.exactExclusions, pattern.text, theme);
    else compiled.affixExclusions.push(pattern);
  }
}

function compileLanguage(taxonomy: Taxonomy, language: Language): CompiledLanguage {
  const compiled: CompiledLanguage = {
    language,
    stems: new Map(),
    exact: new Map(),
    affixes: [],
    phrases: new Map(),
    together: [],
    exactExclusions: new Map(),
    affixExclusions: [],
    phraseExclusions: new Map(),
    stemStarts: new Set(),
    words: new Map(),
  };
  taxonomy.themes.forEach((theme, index) => {
    const vocabulary: ThemeVocabulary = theme.vocabulary[language];
    const strong = index * 2;
    const weak = strong + 1;
    for (const term of vocabulary.terms) addTerm(compiled, term, strong);
    for (const term of vocabulary.weakTerms) addTerm(compiled, term, weak);
    for (const part of vocabulary.parts) {
      for (const pattern of parsePattern(part, strong)) addPattern(compiled, pattern);
    }
    for (const part of vocabulary.weakParts) {
      for (const pattern of parsePattern(part, weak)) addPattern(compiled, pattern);
    }
    for (const exclusion of vocabulary.exclude) addExclusion(compiled, exclusion, index);
  });
  const stems = [
    ...compiled.stems.keys(),
    ...[...compiled.phrases, ...compiled.phraseExclusions].flatMap(([first, list]) => [
      first,
      ...list.flatMap((phrase) => phrase.rest),
    ]),
    ...compiled.together.flatMap((entry) => entry.stems),
  ];
  for (const each of stems) compiled.stemStarts.add(each.slice(0, STEM_START));
  return compiled;
}

function matches(pattern: Pattern, word: string): boolean {
  switch (pattern.kind) {
    case 'prefix':
      return word.startsWith(pattern.text);
    case 'suffix':
      return word.endsWith(pattern.text);
    case 'infix':
      return word.includes(pattern.text);
    case 'exact':
      return word === pattern.text;
  }
}

function stemOf(compiled: CompiledLanguage, form: string): string {
  if (form.length >= STEM_START && !compiled.stemStarts.has(form.slice(0, STEM_START))) return form;
  return stem(form, compiled.language);
}

function signalsOf(compiled: CompiledLanguage, form: string, root: string): Set<Signal> {
  const found = new Set<Signal>([
    ...(compiled.stems.get(root) ?? NONE),
    ...(compiled.exact.get(form) ?? NONE),
  ]);
  for (const pattern of compiled.affixes) {
    if (matches(pattern, form)) found.add(pattern.signal);
  }
  if (found.size === 0) return found;
  const excluded = new Set(compiled.exactExclusions.get(form) ?? NONE);
  for (const pattern of compiled.affixExclusions) {
    if (matches(pattern, form)) excluded.add(pattern.signal);
  }
  for (const signal of found) if (excluded.has(signal >> 1)) found.delete(signal);
  return found;
}

function matchWord(compiled: CompiledLanguage, word: string): WordMatch {
  // A hyphenated or apostrophized word is matched whole ("e-mail" as email, "user-friendly"), and
  // by its pieces only when the whole means nothing ("kunde-service", "tracking-länken").
  const joined = JOINERS.test(word) ? word.replace(JOINERS_ALL, '') : word;
  const root = stemOf(compiled, joined);
  let signals = signalsOf(compiled, joined, root);
  if (signals.size === 0 && joined !== word) {
    signals = new Set(
      word
        .split(JOINERS)
        .filter((piece) => piece !== '')
        .flatMap((piece) => [...signalsOf(compiled, piece, stemOf(compiled, piece))]),
    );
  }
  return { stem: root, signals: signals.size === 0 ? NONE : [...signals] };
}

function lookup(compiled: CompiledLanguage, word: string): WordMatch {
  let match = compiled.words.get(word);
  if (match === undefined) {
    if (compiled.words.size >= MAX_CACHED_WORDS) compiled.words.clear();
    match = matchWord(compiled, word);
    compiled.words.set(word, match);
  }
  return match;
}

function phraseAt(stems: readonly string[], at: number, rest: readonly string[]): boolean {
  for (let k = 0; k < rest.length; k++) if (stems[at + 1 + k] !== rest[k]) return false;
  return true;
}

type Silenced = Map<number, Set<number>>;

/** Whether no word from `from` to `to` lies inside an excluded phrase of the signal's theme. */
function heard(silenced: Silenced | undefined, signal: Signal, from: number, to: number): boolean {
  const positions = silenced?.get(signal >> 1);
  if (positions === undefined) return true;
  for (let k = from; k <= to; k++) if (positions.has(k)) return false;
  return true;
}

// Words inside an excluded phrase say nothing about its theme: "sætter pris på".
function silence(compiled: CompiledLanguage, stems: readonly string[]): Silenced | undefined {
  let silenced: Silenced | undefined;
  for (let i = 0; i < stems.length; i++) {
    const phrases = compiled.phraseExclusions.get(stems[i] ?? '');
    if (phrases === undefined) continue;
    for (const phrase of phrases) {
      if (!phraseAt(stems, i, phrase.rest)) continue;
      silenced ??= new Map();
      let positions = silenced.get(phrase.signal);
      if (positions === undefined) {
        positions = new Set();
        silenced.set(phrase.signal, positions);
      }
      for (let k = i; k <= i + phrase.rest.length; k++) positions.add(k);
    }
  }
  return silenced;
}

/** Adds the signals of `tokens` in one language's vocabulary to `into`. */
function collect(compiled: CompiledLanguage, tokens: readonly string[], into: Set<Signal>): void {
  const matched: WordMatch[] = [];
  const stems: string[] = [];
  for (const token of tokens) {
    const match = lookup(compiled, token);
    matched.push(match);
    stems.push(match.stem);
  }
  const silenced = compiled.phraseExclusions.size > 0 ? silence(compiled, stems) : undefined;
  for (let i = 0; i < matched.length; i++) {
    for (const signal of matched[i]?.signals ?? NONE) {
      if (heard(silenced, signal, i, i)) into.add(signal);
    }
  }
  if (compiled.phrases.size > 0) {
    for (let i = 0; i < stems.length; i++) {
      const phrases = compiled.phrases.get(stems[i] ?? '');
      if (phrases === undefined) continue;
      for (const phrase of phrases) {
        const end = i + phrase.rest.length;
        if (phraseAt(stems, i, phrase.rest) && heard(silenced, phrase.signal, i, end))
          into.add(phrase.signal);
      }
    }
  }
  if (compiled.together.length > 0) {
    const present = new Set(stems);
    for (const { stems: all, signal } of compiled.together) {
      let every = true;
      for (const s of all) every &&= present.has(s);
      if (every) into.add(signal);
    }
  }
}

/** The theme ids of the strong signals, or of all when none is strong; sorted. */
function themeIds(signals: ReadonlySet<Signal>, ids: readonly string[]): string[] {
  let strong = false;
  for (const signal of signals) strong ||= signal % 2 === 0;
  const themes = new Set<string>();
  for (const signal of signals) {
    if (strong && signal % 2 === 1) continue;
    themes.add(ids[signal >> 1] ?? '');
  }
  return [...themes].sort();
}

/**
 * A tagger for one taxonomy. The taxonomy is compiled once into lookups per language; each word
 * is matched once and remembered, so tagging a comment is a tokenization and a few map lookups.
 * The comment's vocabulary is that of its language when the language is clear, otherwise all
 * three. Weak words count only when no term or part of any theme matched.
 */
export function createTagger(taxonomy: Taxonomy): Tagger {
  const compiled = {
    da: compileLanguage(taxonomy, 'da'),
    sv: compileLanguage(taxonomy, 'sv'),
    en: compileLanguage(taxonomy, 'en'),
  };
  const ids = taxonomy.themes.map((theme) => theme.id);
  return {
    version: taxonomy.version,
    tag(comment: string, hint?: string | null): ThemeTags {
      const tokens = tokenize(comment);
      const fromText = detectLanguageOfTokens(tokens);
      const { language, confidence } = applyHint(fromText, tokens.length, hint);
      // The vocabulary of the language decided on, and of the text's own when a hint overruled
      // it: "Slow delivery" from a Danish locale is still about delivery.
      const vocabularies = new Set<Language>();
      if (language !== null && confidence >= VOCABULARY_CONFIDENCE) vocabularies.add(language);
      if (vocabularies.size > 0 && fromText.language !== null) vocabularies.add(fromText.language);
      const signals = new Set<Signal>();
      for (const each of vocabularies.size > 0 ? vocabularies : LANGUAGES) {
        collect(compiled[each], tokens, signals);
      }
      return { language, themes: themeIds(signals, ids) };
    },
  };
}
