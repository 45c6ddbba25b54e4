import { newStemmer } from 'snowball-stemmers';
import { EMAIL_MASK, PHONE_MASK } from '../domain/mask.js';

/** The languages comments are analysed in. */
export const LANGUAGES = ['da', 'sv', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: unknown): value is Language {
  return value === 'da' || value === 'sv' || value === 'en';
}

/** Lowercase NFC, so "Å" typed as A + combining ring and "å" are one letter. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

// A word is letters and digits, with inner hyphens and apostrophes kept ("e-mail", "don't"), so a
// hyphenated compound reaches the matcher whole as well as in parts. A currency sign is a word of
// its own: "£6.95 postage" speaks of price.
const WORD = /[\p{L}\p{M}\p{N}]+(?:[-'’][\p{L}\p{M}\p{N}]+)*|\p{Sc}/gu;
const MASKS = new RegExp([EMAIL_MASK, PHONE_MASK].map(escape).join('|'), 'giu');

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The words of a comment, normalized, in order. The `[email]` and `[phone]` masks are left out:
 * they stand for something the respondent wrote, not for the words "email" and "phone".
 */
export function tokenize(text: string): string[] {
  const normalized = normalizeText(text).replace(MASKS, ' ');
  return normalized.match(WORD) ?? [];
}

const STEMMERS = {
  da: newStemmer('danish'),
  sv: newStemmer('swedish'),
  en: newStemmer('english'),
} as const;

/** The Snowball stem of a normalized word. */
export function stem(word: string, language: Language): string {
  return STEMMERS[language].stem(word);
}

// How people type the Nordic letters on a keyboard without them: "kundtjanst", "oedelagt",
// "paa". Variants are made of vocabulary we know, never of the comment, which is how "aa" -> "å"
// stays safe: "ekstraafgift" is never rewritten, "tilbagebetaling" is never guessed at.
const FALLBACKS: Readonly<Record<string, readonly string[]>> = {
  å: ['aa', 'a'],
  æ: ['ae', 'a'],
  ø: ['oe', 'o'],
  ä: ['ae', 'a'],
  ö: ['oe', 'o'],
  é: ['e'],
  ü: ['u', 'ue'],
};
const MAX_VARIANTS = 16;

/** `word` and its spellings without Nordic letters: "kundtjänst" -> kundtjaenst, kundtjanst. */
export function asciiVariants(word: string): string[] {
  let variants = [''];
  for (const letter of word) {
    const options = FALLBACKS[letter];
    const next: string[] = [];
    for (const prefix of variants) {
      next.push(prefix + letter);
      if (options) for (const option of options) next.push(prefix + option);
    }
    variants = next.slice(0, MAX_VARIANTS);
  }
  return variants;
}
