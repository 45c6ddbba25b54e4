import { describe, expect, it } from 'vitest';
import { pseudonymize, respondentIdFrom } from '../../src/domain/pseudonym.js';

describe('respondent pseudonyms', () => {
  const key = 'unit-pseudonym-key-0123456789';

  it('the same person gets the same id whatever the spelling of the address or number', () => {
    expect(pseudonymize(key, 'Kunde@Example.dk ')).toBe(pseudonymize(key, 'kunde@example.dk'));
    expect(pseudonymize(key, '+45 12 34 56 78')).toBe(pseudonymize(key, '+4512345678'));
    expect(pseudonymize(key, 'kunde@example.dk')).not.toBe(
      pseudonymize('another-key-0123456789', 'kunde@example.dk'),
    );
  });

  it('contacts become HMACs, or nothing without a key; opaque ids stay', () => {
    expect(respondentIdFrom(key, 'a@b.se')).toMatch(/^r_/);
    expect(respondentIdFrom(undefined, 'a@b.se')).toBeNull();
    expect(respondentIdFrom(undefined, '0701234567')).toBeNull();
    expect(respondentIdFrom(key, 'crm-42')).toBe('crm-42');
    expect(respondentIdFrom(key, null)).toBeNull();
  });
});
