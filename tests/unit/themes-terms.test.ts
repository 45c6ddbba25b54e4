import { describe, expect, it } from 'vitest';
import { distinctiveTerms } from '../../src/themes/terms.js';
import type { TermDoc } from '../../src/themes/terms.js';
import { mulberry32 } from '../support/mulberry32.js';

const en = (text: string): TermDoc => ({ text, language: 'en' });

/**
 * Monroe, Colaresi & Quinn's weighted log-odds written out once more, from the paper, for the
 * tiny example below: α0 is the pooled number of occurrences, so α_w is the pooled count.
 */
function fightinWords(yt: number, yr: number, nt: number, nr: number) {
  const a0 = nt + nr;
  const a = yt + yr;
  const delta = Math.log((yt + a) / (nt + a0 - yt - a)) - Math.log((yr + a) / (nr + a0 - yr - a));
  return { logOdds: delta, z: delta / Math.sqrt(1 / (yt + a) + 1 / (yr + a)) };
}

describe('distinctive terms', () => {
  // Counted by hand. Target: "slow slow parcel" gives slow, slow, parcel, "slow slow",
  // "slow parcel"; "slow staff" gives slow, staff, "slow staff": n_t = 8. Reference: "great
  // staff" and "great parcel" give three each: n_r = 6. The English stems of these words are the
  // words themselves.
  const target = [en('slow slow parcel'), en('slow staff')];
  const reference = [en('great staff'), en('great parcel')];

  it('scores a tiny example as the formula does by hand', () => {
    const terms = distinctiveTerms(target, reference, { minCount: 1 });
    // slow: y_t = 3, y_r = 0, α = 3: δ = ln(6/16) - ln(3/17) = ln(2.125), σ² = 1/6 + 1/3.
    // Each phrase: y_t = 1, y_r = 0, α = 1: δ = ln(2/20) - ln(1/19) = ln(1.9), σ² = 1/2 + 1.
    // staff and parcel (1 and 1) lean to the reference; great is only there: none is listed.
    expect(terms.map((t) => [t.stem, t.target, t.reference])).toEqual([
      ['slow', 3, 0],
      ['slow parcel', 1, 0],
      ['slow slow', 1, 0],
      ['slow staff', 1, 0],
    ]);
    expect(terms[0]?.logOdds).toBeCloseTo(Math.log(2.125), 12);
    expect(terms[0]?.z).toBeCloseTo(Math.log(2.125) / Math.sqrt(0.5), 12);
    expect(terms[0]?.z).toBeCloseTo(1.066, 3);
    expect(terms[1]?.logOdds).toBeCloseTo(Math.log(1.9), 12);
    expect(terms[1]?.z).toBeCloseTo(0.524, 3);
    for (const term of terms) {
      const expected = fightinWords(term.target, term.reference, 8, 6);
      expect(term.logOdds).toBeCloseTo(expected.logOdds, 12);
      expect(term.z).toBeCloseTo(expected.z, 12);
    }
  });

  it('ties are broken by stem, and the limit and minimum count apply', () => {
    expect(distinctiveTerms(target, reference).map((t) => t.stem)).toEqual(['slow']);
    expect(
      distinctiveTerms(target, reference, { minCount: 1, limit: 2 }).map((t) => t.stem),
    ).toEqual(['slow', 'slow parcel']);
  });

  it('finds a word planted in the target group among random ones', () => {
    const random = mulberry32(7);
    const vocabulary = `table river yellow window garden music paper orange silver winter
      morning pencil island forest candle bottle ladder violin marble rocket`.split(/\s+/);
    const doc = (plant: number): TermDoc => {
      const words = Array.from(
        { length: 6 },
        () => vocabulary[Math.floor(random() * vocabulary.length)] ?? '',
      );
      if (random() < plant) words.splice(Math.floor(random() * 6), 0, 'parking');
      return en(words.join(' '));
    };
    const detractors = Array.from({ length: 300 }, () => doc(0.3));
    const others = Array.from({ length: 300 }, () => doc(0.03));
    const [first] = distinctiveTerms(detractors, others);
    expect(first?.stem).toBe('park');
    expect(first?.term).toBe('parking');
    expect(first?.target).toBeGreaterThan(60);
    expect(first?.reference).toBeLessThan(20);
  });

  it('groups inflections by stem and shows the most frequent spelling', () => {
    const da = (text: string): TermDoc => ({ text, language: 'da' });
    const terms = distinctiveTerms(
      [
        da('Leveringstiden var lang'),
        da('leveringstiden er for lang'),
        da('Leveringstid på en uge'),
      ],
      [da('Flot hjemmeside'), da('Flot service')],
    );
    expect(terms[0]).toMatchObject({ term: 'leveringstiden', stem: 'leveringstid', target: 3 });
  });

  it('leaves out stopwords, numbers, currency signs and contact masks', () => {
    const docs = [
      en('the [phone] and the [email] 12345 £ 9 it is'),
      en('the [phone] and the [email] 12345 £ 9 it is'),
      en('the [phone] and the [email] 12345 £ 9 it is'),
    ];
    expect(distinctiveTerms(docs, [en('fine')], { minCount: 1 })).toEqual([]);
  });

  it('a phrase is of neighbouring words, not of words a stopword stood between', () => {
    const terms = distinctiveTerms(
      [en('slow and late'), en('slow and late'), en('slow and late')],
      [en('good')],
      { minCount: 1 },
    );
    expect(terms.map((t) => t.stem).sort()).toEqual(['late', 'slow']);
  });

  it('detects the language of a comment without one before stemming it', () => {
    const terms = distinctiveTerms(
      [
        { text: 'Kundtjänsten svarar aldrig', language: null },
        { text: 'Ingen på kundtjänst svarade', language: null },
        { text: 'Kundtjänsten är stängd hela veckan', language: null },
      ],
      [{ text: 'Bra pris', language: 'sv' }],
    );
    expect(terms[0]).toMatchObject({ term: 'kundtjänsten', stem: 'kundtjänst', target: 3 });
  });

  it('an empty group has no distinctive terms', () => {
    expect(distinctiveTerms([], reference)).toEqual([]);
    expect(distinctiveTerms(target, [])).toEqual([]);
  });
});
