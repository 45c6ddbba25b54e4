import { describe, expect, it } from 'vitest';
import { parseScoreReply, stripQuotedReply } from '../../src/domain/score-text.js';

describe('reading a score from a reply', () => {
  it.each([
    ['9', 9, null],
    ['10!', 10, null],
    ['9/10', 9, null],
    ['Score: 7', 7, null],
    ['0', 0, null],
    ['Jeg giver 8, hurtig levering', 8, 'hurtig levering'],
    ['Betyg 3 - långsam leverans', 3, 'långsam leverans'],
    ['8 out of 10, support was slow', 8, 'support was slow'],
    ['Jag ger er 6 av 10. Kundtjänst svarade aldrig', 6, 'Kundtjänst svarade aldrig'],
    ['Slow delivery but great product: 7', 7, 'Slow delivery but great product'],
    ['  10  ', 10, null],
  ])('%j is score %i with comment %j', (text, score, comment) => {
    expect(parseScoreReply(text)).toEqual({ score, comment });
  });

  it.each([
    ['no number at all'],
    ['Ring mig på 12345678'],
    ['11'],
    ['7.5'],
    ['-3'],
    ['Levering kl. 10:30 var fin'],
    ['Leveret 3/11'],
    ['Svar 0-10'],
    ['STOP'],
    [''],
  ])('%j holds no score', (text) => {
    expect(parseScoreReply(text)).toBeNull();
  });

  it('takes the first standalone score when there are several numbers', () => {
    expect(parseScoreReply('Order 12345: 4, the parcel took 12 days')).toEqual({
      score: 4,
      comment: 'Order 12345 - the parcel took 12 days',
    });
  });

  it('ignores the quoted message of an English reply', () => {
    const reply =
      '9 - quick and friendly\n\nOn Mon, 3 Nov 2026 at 10:15, Shop <nps@shop.example> wrote:\n> How likely are you to recommend us? Reply 0-10\n> 10 = very likely';
    expect(parseScoreReply(reply)).toEqual({ score: 9, comment: 'quick and friendly' });
  });

  it('ignores the quoted message of Danish and Swedish replies', () => {
    const da =
      'Jeg giver 5. Pakken kom for sent\n\nDen 3. nov. 2026 kl. 10.15 skrev Butik <nps@butik.example>:\n> Hvor sandsynligt er det... svar 0-10';
    const sv =
      'Betyg 9, snabb leverans!\n\nDen 3 nov. 2026 kl. 10:15 skrev Butik <nps@butik.example>:\n> Hur troligt är det... svara 0-10';
    expect(parseScoreReply(da)).toEqual({ score: 5, comment: 'Pakken kom for sent' });
    expect(parseScoreReply(sv)).toEqual({ score: 9, comment: 'snabb leverans!' });
  });

  it('a reply that only quotes the question has no score of its own', () => {
    expect(parseScoreReply('> Reply with a number 0-10')).toBeNull();
    expect(stripQuotedReply('Thanks\n> quoted 10')).toBe('Thanks');
  });
});
