import { readFileSync } from 'node:fs';
import { fromPackageRoot } from '../package-root.js';
import type { FieldProblem, Validated } from '../domain/response.js';
import { NpsError } from '../errors.js';
import { LANGUAGES, normalizeText, tokenize } from './text.js';
import type { Language } from './text.js';

/**
 * The theme taxonomy: which themes a comment can mention and, per language, the words that mean
 * each one. It is data (schemas/taxonomy/default.json), so an installation can replace it
 * (NPS_TAXONOMY) and every tag records the `version` it was made with.
 *
 * Per theme and language:
 * - `terms`: words, or phrases of consecutive words, matched in any inflection by their Snowball
 *   stems ("pakke" matches pakken and pakker, "charged twice" matches "charging twice"); "a + b"
 *   matches a comment holding both words anywhere ("pengar + tillbaka");
 * - `parts`: pieces of words for compounds and word families, `lever*` (begins with),
 *   `*levering` (ends with), `*kundeservice*` (anywhere) or a bare word (that exact word);
 * - `weakTerms`, `weakParts`: the same, for words that point to the theme only when the comment
 *   names no theme with a term or a part ("virker" is about the product unless the comment says
 *   the website or the tracking is what works);
 * - `exclude`: patterns of words that contain a part but mean something else ("leverpostej*" for
 *   delivery, "appelsin*" for the app), or phrases in which the theme's words mean something else
 *   ("sætter pris på" is appreciation, not price). Excluded words never count for the theme.
 * Spellings without the Nordic letters ("kundtjanst", "oedelagt") are added when compiled.
 */
export interface ThemeVocabulary {
  readonly terms: readonly string[];
  readonly parts: readonly string[];
  readonly weakTerms: readonly string[];
  readonly weakParts: readonly string[];
  readonly exclude: readonly string[];
}

export interface Theme {
  /** Stored with every tag; lowercase letters, digits and "_". */
  readonly id: string;
  readonly labels: Readonly<Record<Language, string>>;
  readonly vocabulary: Readonly<Record<Language, ThemeVocabulary>>;
}

export interface Taxonomy {
  /** Stored with every tag, so tags made under different taxonomies can be told apart. */
  readonly version: string;
  readonly themes: readonly Theme[];
}

export const DEFAULT_TAXONOMY_PATH = fromPackageRoot('schemas', 'taxonomy', 'default.json');

const THEME_ID = /^[a-z][a-z0-9_]{0,63}$/u;
const VERSION = /^[\x21-\x7e]{1,64}$/u;
const PATTERN = /^(\*?)([^*]+)(\*?)$/u;
/** Shorter pieces of words would match inside too many unrelated words. */
export const MIN_PART_LENGTH = 3;
const ROOT_KEYS = new Set(['$schema', 'description', 'version', 'themes']);
const THEME_KEYS = new Set(['id', 'description', 'labels', ...LANGUAGES]);
const VOCABULARY_KEYS = new Set(['terms', 'parts', 'weakTerms', 'weakParts', 'exclude']);
const EMPTY: ThemeVocabulary = { terms: [], parts: [], weakTerms: [], weakParts: [], exclude: [] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(
  problems: FieldProblem[],
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  at: string,
): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      problems.push({
        field: at === '' ? key : `${at}.${key}`,
        message: `is not a known field (expected one of ${[...known].join(', ')})`,
      });
    }
  }
}

function stringList(
  problems: FieldProblem[],
  value: unknown,
  at: string,
  check: (item: string) => string | null,
): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ field: at, message: 'must be an array of strings' });
    return [];
  }
  const items: string[] = [];
  value.forEach((item: unknown, index) => {
    const field = `${at}[${index}]`;
    if (typeof item !== 'string') {
      problems.push({ field, message: 'must be a string' });
      return;
    }
    const normalized = normalizeText(item.trim());
    const problem = check(normalized);
    if (problem === null) items.push(normalized);
    else problems.push({ field, message: `${problem} (got ${JSON.stringify(item)})` });
  });
  return items;
}

function checkWords(words: string): string | null {
  const tokens = tokenize(words);
  if (tokens.length === 0) return 'must contain a word';
  if (tokens.join(' ') !== words.trim().replace(/\s+/gu, ' '))
    return 'must be words separated by single spaces, without punctuation';
  return null;
}

function checkTerm(term: string): string | null {
  const all = term.split(' + ');
  if (all.length > 1 && all.some((words) => tokenize(words).length !== 1))
    return 'must join single words with " + "';
  for (const words of all) {
    const problem = checkWords(words);
    if (problem !== null) return problem;
  }
  return null;
}

function checkPattern(pattern: string): string | null {
  const match = PATTERN.exec(pattern);
  const literal = match?.[2];
  if (literal === undefined) return 'must be a word with an optional "*" at either end';
  const words = tokenize(literal);
  if (words.length !== 1 || words[0] !== literal) return 'must be a single word besides the "*"';
  const affix = match?.[1] === '*' || match?.[3] === '*';
  if (affix && literal.length < MIN_PART_LENGTH)
    return `must have at least ${MIN_PART_LENGTH} letters besides the "*"`;
  return null;
}

function checkExclusion(exclusion: string): string | null {
  return exclusion.includes(' ') ? checkWords(exclusion) : checkPattern(exclusion);
}

function vocabulary(problems: FieldProblem[], value: unknown, at: string): ThemeVocabulary {
  if (value === undefined) return EMPTY;
  if (!isRecord(value)) {
    problems.push({
      field: at,
      message: `must be an object with ${[...VOCABULARY_KEYS].join(', ')}`,
    });
    return EMPTY;
  }
  unknownKeys(problems, value, VOCABULARY_KEYS, at);
  return {
    terms: stringList(problems, value.terms, `${at}.terms`, checkTerm),
    parts: stringList(problems, value.parts, `${at}.parts`, checkPattern),
    weakTerms: stringList(problems, value.weakTerms, `${at}.weakTerms`, checkTerm),
    weakParts: stringList(problems, value.weakParts, `${at}.weakParts`, checkPattern),
    exclude: stringList(problems, value.exclude, `${at}.exclude`, checkExclusion),
  };
}

/** Checks a parsed taxonomy document; every problem names its field ("themes[2].sv.parts[0]"). */
export function validateTaxonomy(input: unknown): Validated<Taxonomy> {
  const problems: FieldProblem[] = [];
  if (!isRecord(input)) {
    return { ok: false, problems: [{ field: '(document)', message: 'must be a JSON object' }] };
  }
  unknownKeys(problems, input, ROOT_KEYS, '');
  const { version, themes } = input;
  if (typeof version !== 'string' || !VERSION.test(version)) {
    problems.push({ field: 'version', message: 'must be 1-64 printable ASCII characters' });
  }
  if (!Array.isArray(themes) || themes.length === 0) {
    problems.push({ field: 'themes', message: 'must be a non-empty array of themes' });
    return { ok: false, problems };
  }
  const seen = new Set<string>();
  const parsed: Theme[] = [];
  themes.forEach((theme: unknown, index) => {
    const at = `themes[${index}]`;
    if (!isRecord(theme)) {
      problems.push({ field: at, message: 'must be an object' });
      return;
    }
    unknownKeys(problems, theme, THEME_KEYS, at);
    const { id, labels } = theme;
    if (typeof id !== 'string' || !THEME_ID.test(id)) {
      problems.push({
        field: `${at}.id`,
        message: 'must be 1-64 characters of a-z 0-9 _, starting with a letter',
      });
    } else if (seen.has(id)) {
      problems.push({ field: `${at}.id`, message: `repeats the id "${id}"` });
    } else {
      seen.add(id);
    }
    const labelValues: Partial<Record<Language, string>> = {};
    if (!isRecord(labels)) {
      problems.push({ field: `${at}.labels`, message: 'must be an object with da, sv and en' });
    } else {
      unknownKeys(problems, labels, new Set(LANGUAGES), `${at}.labels`);
      for (const language of LANGUAGES) {
        const label = labels[language];
        if (typeof label !== 'string' || label.trim() === '') {
          problems.push({
            field: `${at}.labels.${language}`,
            message: 'must be a non-empty string',
          });
        } else {
          labelValues[language] = label.trim();
        }
      }
    }
    const words = {
      da: vocabulary(problems, theme.da, `${at}.da`),
      sv: vocabulary(problems, theme.sv, `${at}.sv`),
      en: vocabulary(problems, theme.en, `${at}.en`),
    };
    const empty = (l: Language) =>
      words[l].terms.length + words[l].parts.length + words[l].weakTerms.length === 0 &&
      words[l].weakParts.length === 0;
    if (LANGUAGES.every(empty)) {
      problems.push({ field: at, message: 'has no terms or parts in any language' });
    }
    parsed.push({
      id: typeof id === 'string' ? id : '',
      labels: { da: labelValues.da ?? '', sv: labelValues.sv ?? '', en: labelValues.en ?? '' },
      vocabulary: words,
    });
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { version: version as string, themes: parsed } };
}

/** A taxonomy from JSON text; throws CONFIG_INVALID naming `source` and every bad field. */
export function parseTaxonomy(json: string, source: string): Taxonomy {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (error) {
    throw new NpsError(
      'CONFIG_INVALID',
      `taxonomy ${source} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const result = validateTaxonomy(document);
  if (!result.ok) {
    const list = result.problems.map((p) => `${p.field} ${p.message}`).join('; ');
    throw new NpsError('CONFIG_INVALID', `taxonomy ${source}: ${list}`);
  }
  return result.value;
}

/** Reads and validates a taxonomy file (the one NPS_TAXONOMY names); once, at start-up. */
export function loadTaxonomy(path: string): Taxonomy {
  let json: string;
  try {
    json = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new NpsError(
      'CONFIG_INVALID',
      `taxonomy ${path} cannot be read (${typeof code === 'string' ? code : 'error'}); NPS_TAXONOMY must name a readable JSON file`,
      { cause: error },
    );
  }
  return parseTaxonomy(json, path);
}

let defaultTaxonomyCache: Taxonomy | undefined;

/** The taxonomy shipped in schemas/taxonomy/default.json, read on first use. */
export function defaultTaxonomy(): Taxonomy {
  defaultTaxonomyCache ??= loadTaxonomy(DEFAULT_TAXONOMY_PATH);
  return defaultTaxonomyCache;
}

/** A theme's label in `language`; the id itself for a theme this taxonomy does not have. */
export function themeLabel(taxonomy: Taxonomy, id: string, language: Language): string {
  return taxonomy.themes.find((theme) => theme.id === id)?.labels[language] ?? id;
}
