import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NpsError } from '../../src/errors.js';
import { createTagger } from '../../src/themes/tagger.js';
import {
  DEFAULT_TAXONOMY_PATH,
  defaultTaxonomy,
  loadTaxonomy,
  parseTaxonomy,
  themeLabel,
  validateTaxonomy,
} from '../../src/themes/taxonomy.js';

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nps-taxonomy-test-'));
  onTestFinished(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function theme(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'parking',
    labels: { da: 'Parkering', sv: 'Parkering', en: 'Parking' },
    da: { terms: ['parkering'], parts: ['parkering*'], exclude: [] },
    ...overrides,
  };
}

/** The message of the CONFIG_INVALID error that parsing `document` throws. */
function problemsOf(document: unknown): string {
  try {
    parseTaxonomy(JSON.stringify(document), 'test.json');
  } catch (error) {
    expect(error).toBeInstanceOf(NpsError);
    expect((error as NpsError).code).toBe('CONFIG_INVALID');
    return (error as NpsError).message;
  }
  throw new Error('expected the taxonomy to be rejected');
}

describe('the default taxonomy', () => {
  it('has the eight fixed themes, each labelled in da, sv and en, and a version', () => {
    const taxonomy = defaultTaxonomy();
    expect(taxonomy.version).toBe('default-1');
    expect(taxonomy.themes.map((t) => t.id)).toEqual([
      'delivery',
      'customer_service',
      'price',
      'product_quality',
      'website_app',
      'returns_refunds',
      'communication',
      'billing',
    ]);
    for (const t of taxonomy.themes) {
      for (const language of ['da', 'sv', 'en'] as const) {
        expect(t.labels[language]).not.toBe('');
        expect(t.vocabulary[language].terms.length).toBeGreaterThan(0);
      }
    }
  });

  it('is the file at DEFAULT_TAXONOMY_PATH', () => {
    expect(loadTaxonomy(DEFAULT_TAXONOMY_PATH)).toEqual(defaultTaxonomy());
  });

  it('labels a theme in each language, and an unknown id by the id itself', () => {
    const taxonomy = defaultTaxonomy();
    expect(themeLabel(taxonomy, 'delivery', 'da')).toBe('Levering');
    expect(themeLabel(taxonomy, 'customer_service', 'sv')).toBe('Kundtjänst');
    expect(themeLabel(taxonomy, 'price', 'en')).toBe('Price');
    expect(themeLabel(taxonomy, 'parking', 'en')).toBe('parking');
  });
});

describe('loading a taxonomy file', () => {
  it('a company taxonomy is loaded, normalized and used by the tagger', () => {
    const path = tempFile(
      'company.json',
      JSON.stringify({
        version: 'acme-7',
        themes: [
          theme({ en: { terms: ['Parking Lot'], parts: ['PARKING*'] } }),
          theme({
            id: 'coffee',
            labels: { da: 'Kaffe', sv: 'Kaffe', en: 'Coffee' },
            da: { terms: ['kaffe'], exclude: [] },
            sv: { parts: ['*kaffe*'] },
          }),
        ],
      }),
    );
    const taxonomy = loadTaxonomy(path);
    expect(taxonomy.version).toBe('acme-7');
    expect(taxonomy.themes[0]?.vocabulary.en).toEqual({
      terms: ['parking lot'],
      parts: ['parking*'],
      weakTerms: [],
      weakParts: [],
      exclude: [],
    });
    const tagger = createTagger(taxonomy);
    expect(tagger.version).toBe('acme-7');
    expect(tagger.tag('The parking lot was full', 'en').themes).toEqual(['parking']);
    expect(tagger.tag('Kaffen var kold og parkeringen dyr', 'da').themes).toEqual([
      'coffee',
      'parking',
    ]);
    expect(tagger.tag('Gott bryggkaffe', 'sv').themes).toEqual(['coffee']);
  });

  it('a missing file names the path and the reason', () => {
    const path = join(tmpdir(), 'no-such-taxonomy.json');
    expect(() => loadTaxonomy(path)).toThrow(
      `taxonomy ${path} cannot be read (ENOENT); NPS_TAXONOMY must name a readable JSON file`,
    );
  });

  it('a file that is not JSON is named with the parse error', () => {
    const path = tempFile('broken.json', '{"version": "x",');
    expect(() => loadTaxonomy(path)).toThrow(`taxonomy ${path} is not valid JSON`);
  });

  it('every problem is reported with the field it is in', () => {
    const message = problemsOf({
      version: '',
      themes: [
        theme({ id: 'Parking' }),
        theme({ labels: { da: 'Parkering', en: 'Parking' } }),
        theme({ id: 'parking' }),
        theme({ id: 'noise', da: { terms: ['støj!'], parts: ['*a*', 'st*j'], exclusions: [] } }),
      ],
    });
    expect(message).toContain('taxonomy test.json: ');
    expect(message).toContain('version must be 1-64 printable ASCII characters');
    expect(message).toContain(
      'themes[0].id must be 1-64 characters of a-z 0-9 _, starting with a letter',
    );
    expect(message).toContain('themes[1].labels.sv must be a non-empty string');
    expect(message).toContain('themes[2].id repeats the id "parking"');
    expect(message).toContain(
      'themes[3].da.terms[0] must be words separated by single spaces, without punctuation (got "støj!")',
    );
    expect(message).toContain(
      'themes[3].da.parts[0] must have at least 3 letters besides the "*" (got "*a*")',
    );
    expect(message).toContain(
      'themes[3].da.parts[1] must be a word with an optional "*" at either end (got "st*j")',
    );
    expect(message).toContain('themes[3].da.exclusions is not a known field');
  });

  it.each([
    [[], '(document) must be a JSON object'],
    [{ version: 'v1' }, 'themes must be a non-empty array of themes'],
    [{ version: 'v1', themes: [] }, 'themes must be a non-empty array of themes'],
    [{ version: 'v1', themes: ['delivery'] }, 'themes[0] must be an object'],
    [
      { version: 'v1', themes: [theme({ da: { terms: 'parkering' } })] },
      'themes[0].da.terms must be an array of strings',
    ],
    [
      { version: 'v1', themes: [theme({ da: { terms: [7] } })] },
      'themes[0].da.terms[0] must be a string',
    ],
    [
      { version: 'v1', themes: [theme({ da: { terms: ['to + ord med'] } })] },
      'themes[0].da.terms[0] must join single words with " + "',
    ],
    [
      { version: 'v1', themes: [theme({ da: { terms: [] } })] },
      'themes[0] has no terms or parts in any language',
    ],
    [{ version: 'v1', themes: [theme({ dk: {} })] }, 'themes[0].dk is not a known field'],
    [{ version: 'v1', themes: [theme()], extra: 1 }, 'extra is not a known field'],
  ])('%j is rejected: %s', (document, problem) => {
    expect(problemsOf(document)).toContain(problem);
  });

  it('a valid document passes validation as it is', () => {
    const result = validateTaxonomy({ version: 'v1', themes: [theme()] });
    expect(result.ok).toBe(true);
  });
});
