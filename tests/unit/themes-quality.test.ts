import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTagger } from '../../src/themes/tagger.js';
import { defaultTaxonomy } from '../../src/themes/taxonomy.js';
import { LANGUAGES, tokenize } from '../../src/themes/text.js';
import type { Language } from '../../src/themes/text.js';

// The bars of the issue: per theme and language precision >= 0.85 and recall >= 0.80 on the
// labelled comments of tests/fixtures/themes, and the language of comments of four or more words
// detected right in >= 95 % of them. Comments are tagged without a hint, as a channel that knows
// nothing would, so the table measures the detector and the vocabulary together.
const MIN_PRECISION = 0.85;
const MIN_RECALL = 0.8;
const MIN_LANGUAGE_ACCURACY = 0.95;
const MIN_WORDS_FOR_LANGUAGE = 4;

interface Labelled {
  readonly text: string;
  readonly language: Language;
  readonly themes: readonly string[];
  readonly score: number;
}

function fixture(language: Language): Labelled[] {
  const path = new URL(`../fixtures/themes/${language}.jsonl`, import.meta.url);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Labelled);
}

const ratio = (part: number, whole: number, empty: number) => (whole === 0 ? empty : part / whole);
const fixed = (x: number) => x.toFixed(2);

describe('tagging quality on the labelled comments', () => {
  const taxonomy = defaultTaxonomy();
  const tagger = createTagger(taxonomy);
  const ids = taxonomy.themes.map((theme) => theme.id);

  it('meets the precision, recall and language-detection bars in da, sv and en', () => {
    const failures: string[] = [];
    const table: string[] = [
      'lang theme              tp  fp  fn  precision recall',
      '---- ------------------ --- --- --- --------- ------',
    ];
    const languageLines: string[] = [];
    for (const language of LANGUAGES) {
      const rows = fixture(language);
      expect(rows.length, `${language}.jsonl`).toBeGreaterThanOrEqual(150);
      const counts = new Map(ids.map((id) => [id, { tp: 0, fp: 0, fn: 0 }]));
      let long = 0;
      let rightLanguage = 0;
      for (const row of rows) {
        const tags = tagger.tag(row.text);
        const words = tokenize(row.text).filter((word) => /\p{L}/u.test(word)).length;
        if (words >= MIN_WORDS_FOR_LANGUAGE) {
          long += 1;
          if (tags.language === row.language) rightLanguage += 1;
        }
        for (const id of ids) {
          const count = counts.get(id);
          if (count === undefined) continue;
          const expected = row.themes.includes(id);
          const got = tags.themes.includes(id);
          if (expected && got) count.tp += 1;
          else if (got) count.fp += 1;
          else if (expected) count.fn += 1;
        }
      }
      for (const [id, { tp, fp, fn }] of counts) {
        const precision = ratio(tp, tp + fp, fn === 0 ? 1 : 0);
        const recall = ratio(tp, tp + fn, 1);
        const flag = precision < MIN_PRECISION || recall < MIN_RECALL ? '  <- below the bar' : '';
        table.push(
          `${language.padEnd(4)} ${id.padEnd(18)} ${[tp, fp, fn].map((n) => String(n).padStart(3)).join(' ')}` +
            ` ${fixed(precision).padStart(9)} ${fixed(recall).padStart(6)}${flag}`,
        );
        if (flag !== '') {
          failures.push(
            `${language} ${id}: precision ${fixed(precision)}, recall ${fixed(recall)}`,
          );
        }
      }
      const accuracy = ratio(rightLanguage, long, 1);
      languageLines.push(
        `${language}: ${rightLanguage}/${long} comments of ${MIN_WORDS_FOR_LANGUAGE}+ words = ${fixed(accuracy)}`,
      );
      if (accuracy < MIN_LANGUAGE_ACCURACY) {
        failures.push(`${language} language detection: ${fixed(accuracy)}`);
      }
    }
    console.log(
      `Themes (taxonomy ${taxonomy.version}), tagged without a hint:\n${table.join('\n')}\n\n` +
        `Language detected right:\n${languageLines.join('\n')}`,
    );
    expect(failures).toEqual([]);
  });
});

describe('tagging one comment', () => {
  const tagger = createTagger(defaultTaxonomy());
  const themes = (text: string, hint?: string) => tagger.tag(text, hint).themes;

  it.each([
    ['Leveringstiden var alt for lang', 'da', ['delivery']],
    ['Kundeservicens svar kom aldrig', 'da', ['customer_service']],
    ['Returneringen var nem, og refusionen kom hurtigt', 'da', ['returns_refunds']],
    ['Leveranstiden var för lång', 'sv', ['delivery']],
    ['Kundtjänsten var otroligt hjälpsam', 'sv', ['customer_service']],
    ['Fick dubbeldebiterat på fakturan', 'sv', ['billing']],
    ['Deliveries are always late', 'en', ['delivery']],
    ['The app keeps crashing at checkout', 'en', ['website_app']],
  ])('%j finds its theme in a compound or inflection (%s)', (text, hint, expected) => {
    expect(themes(text, hint)).toEqual(expected);
  });

  it.each([
    ['ikke dårlig kvalitet', ['product_quality']],
    ['inte dyrt alls', ['price']],
    ['not expensive at all', ['price']],
    ['Ingen problemer med leveringen', ['delivery']],
  ])('a mention counts whatever its polarity: %j', (text, expected) => {
    expect(themes(text)).toEqual(expected);
  });

  it.each([
    ['kundtjanst svarar aldrig', ['customer_service']],
    ['produktet var oedelagt', ['product_quality']],
    ['levringen var hurtig', ['delivery']],
    ['delivary was quick', ['delivery']],
  ])('a spelling without Nordic letters or with a slip still counts: %j', (text, expected) => {
    expect(themes(text)).toEqual(expected);
  });

  it('words that contain a theme word but mean something else do not count', () => {
    expect(themes('Leverpostejen smagte godt', 'da')).not.toContain('delivery');
    expect(themes('Appelsinerne var friske', 'da')).not.toContain('website_app');
    expect(themes('Det sætter jeg stor pris på', 'da')).toEqual([]);
    expect(themes('Knappen var svår att hitta', 'sv')).not.toContain('website_app');
  });

  it('a weak word counts only when nothing names a theme outright', () => {
    expect(themes('Kaffemaskinen virker perfekt', 'da')).toEqual(['product_quality']);
    expect(themes('Hjemmesiden virker perfekt', 'da')).toEqual(['website_app']);
    expect(themes('Too many emails', 'en')).toEqual(['communication']);
    expect(themes('Customer service never answers my emails', 'en')).toEqual(['customer_service']);
  });

  it('several themes are sorted and listed once', () => {
    expect(themes('Dyr fragt, langsom levering og en faktura med forkert beløb', 'da')).toEqual([
      'billing',
      'delivery',
      'price',
    ]);
  });

  it('a hint names the language, and a comment in another one is still read in its own', () => {
    expect(tagger.tag('Slow delivery', 'da-DK')).toEqual({ language: 'da', themes: ['delivery'] });
    expect(tagger.tag('Langsom levering', 'da-DK')).toEqual({
      language: 'da',
      themes: ['delivery'],
    });
  });

  it('the masks of contacts are not words', () => {
    expect(tagger.tag('Skriv til mig på [email] eller ring [phone]', 'da').themes).toEqual([]);
  });

  it('no theme and no language for a comment without either', () => {
    expect(tagger.tag('👍')).toEqual({ language: null, themes: [] });
    expect(tagger.tag('')).toEqual({ language: null, themes: [] });
  });
});
