import { describe, expect, it } from 'vitest';
import {
  MIN_CONFIDENCE,
  detectLanguage,
  languageCues,
  languageOfCountry,
  normalizeLanguageHint,
} from '../../src/themes/language.js';

describe('language hints', () => {
  it.each([
    ['da', 'da'],
    ['da-DK', 'da'],
    ['DA-dk', 'da'],
    ['sv_SE', 'sv'],
    ['sv_SE.UTF-8', 'sv'],
    ['sv-FI', 'sv'],
    ['en-GB', 'en'],
    ['en', 'en'],
    ['dan', 'da'],
    ['und-DK', 'da'],
    ['und-SE', 'sv'],
    ['da-DK,da;q=0.9,en-US;q=0.8,en;q=0.7', 'da'],
    ['en;q=0.5, sv-SE;q=0.9', 'sv'],
    ['*;q=0.8, en-GB', 'en'],
  ])('%j names %s', (hint, language) => {
    expect(normalizeLanguageHint(hint)).toBe(language);
  });

  it.each([
    ['nb'],
    ['nb-NO'],
    ['no'],
    ['de-DE'],
    ['und'],
    ['und-DE'],
    [''],
    ['*'],
    ['nb-NO,nb;q=0.9,en;q=0.8'],
    ['da;q=0'],
  ])('%j names no language we analyse', (hint) => {
    expect(normalizeLanguageHint(hint)).toBeNull();
  });

  it('a missing hint is no hint', () => {
    expect(normalizeLanguageHint(null)).toBeNull();
    expect(normalizeLanguageHint(undefined)).toBeNull();
  });

  it("a sender's country stands for its language", () => {
    expect(languageOfCountry('DK')).toBe('da');
    expect(languageOfCountry('se')).toBe('sv');
    expect(languageOfCountry('GB')).toBe('en');
    expect(languageOfCountry('US')).toBe('en');
    expect(languageOfCountry('NO')).toBeNull();
    expect(languageOfCountry('DE')).toBeNull();
  });
});

describe('detecting the language of a comment', () => {
  it.each([
    ['Pakken kom alt for sent og kundeservice svarede ikke', 'da'],
    ['Jeg er meget tilfreds med jeres hurtige levering', 'da'],
    ['Leveransen tog alldeles för lång tid och ingen svarade', 'sv'],
    ['Jag är jättenöjd med varorna och kommer att handla igen', 'sv'],
    ['The parcel arrived late and nobody answered my emails', 'en'],
    ['Great prices and the staff were really helpful', 'en'],
    ['Halsningar fran en nojd kund, tack for snabb leverans', 'sv'],
  ])('%j is %s', (text, language) => {
    const detected = detectLanguage(text);
    expect(detected.language).toBe(language);
    expect(detected.confidence).toBeGreaterThanOrEqual(MIN_CONFIDENCE);
  });

  it.each([['ok'], ['10/10'], ['👍'], ['Super'], [''], ['Det var helt ok']])(
    '%j is in no clear language',
    (text) => {
      expect(detectLanguage(text).language).toBeNull();
    },
  );

  it('the hint decides for a short comment, with full confidence', () => {
    expect(detectLanguage('Super', 'da-DK')).toEqual({ language: 'da', confidence: 1 });
    expect(detectLanguage('Det var helt ok', 'sv-SE')).toEqual({ language: 'sv', confidence: 1 });
  });

  it('a comment plainly in another language overrules the hint', () => {
    const text = 'The delivery was late and nobody answered my emails about it';
    expect(detectLanguage(text, 'da-DK').language).toBe('en');
  });

  it('a hint for a language we do not analyse leaves it to the text', () => {
    expect(detectLanguage('Leveransen var snabb och bra', 'de-DE').language).toBe('sv');
  });

  it('each cue word counts once, for one set of languages', () => {
    const words = languageCues().map(([word]) => word);
    expect(words.filter((word, i) => words.indexOf(word) !== i)).toEqual([]);
  });
});
