import { describe, expect, it } from 'vitest';
import { escapeMarkup } from '../../src/domain/escape-markup.js';
import { sameSecret } from '../../src/domain/same-secret.js';

describe('sameSecret', () => {
  it('is true only for the same bytes, as strings or buffers', () => {
    expect(sameSecret('abc123', 'abc123')).toBe(true);
    expect(sameSecret(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]))).toBe(true);
    expect(sameSecret('abc123', 'abc124')).toBe(false);
    expect(sameSecret('abc123', 'ABC123')).toBe(false);
  });

  it('answers false for another length instead of throwing, including the empty secret', () => {
    expect(sameSecret('abc123', 'abc1234')).toBe(false);
    expect(sameSecret('abc123', '')).toBe(false);
    expect(sameSecret(Buffer.alloc(32), Buffer.alloc(31))).toBe(false);
  });

  it('compares strings as UTF-8 bytes', () => {
    expect(sameSecret('é', Buffer.from([0xc3, 0xa9]))).toBe(true);
    expect(sameSecret('é', 'e')).toBe(false);
  });
});

describe('escapeMarkup', () => {
  it('turns each character that could open or end markup into its numeric reference', () => {
    expect(escapeMarkup(`<a href="x" title='y'>&</a>`)).toBe(
      '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
    );
  });

  it('leaves other text, including non-ASCII, as it is', () => {
    expect(escapeMarkup('Tak for dit svar: 8/10 ✓')).toBe('Tak for dit svar: 8/10 ✓');
  });
});
