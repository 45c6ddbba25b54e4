import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMAIL_MASK, PHONE_MASK, maskContacts } from '../../src/domain/mask.js';

describe('masking contacts in a comment', () => {
  it.each([
    ['Ring på 12 34 56 78 tak', 'Ring på [phone] tak'],
    ['ring 12345678', 'ring [phone]'],
    ['tlf:12345678.', 'tlf:[phone].'],
    ['ring 1234 5678, tak', 'ring [phone], tak'],
    ['12.34.56.78', '[phone]'],
    ['+45 12345678', '[phone]'],
    ['0045 12 34 56 78', '[phone]'],
    ['Ring mig på +46 70 123 45 67', 'Ring mig på [phone]'],
    ['070-123 45 67', '[phone]'],
    ['08-123 456 78', '[phone]'],
    ['07700 900123', '[phone]'],
    ['+44 20 7946 0958', '[phone]'],
    ['call (555) 123-4567 or 555-123-4567', 'call [phone] or [phone]'],
    ['+1 (555) 123-4567', '[phone]'],
  ])('%j -> %j (phone numbers)', (text, masked) => {
    expect(maskContacts(text)).toBe(masked);
  });

  it.each([
    ['mail: søren.hansen+nps@firma.dk tak', 'mail: [email] tak'],
    ['Skriv til ANNA.L@Example.SE!', 'Skriv til [email]!'],
    ['skriv til anna(at)mail.se', 'skriv til [email]'],
    ['a@b.co and c@d.org', '[email] and [email]'],
  ])('%j -> %j (email addresses)', (text, masked) => {
    expect(maskContacts(text)).toBe(masked);
  });

  it.each([
    ['Jeg giver 8'],
    ['10/10'],
    ['Betyg 9, snabb leverans'],
    ['pakke 2 af 3'],
    ['order #123456'],
    ['#12345678'],
    ['ordre 12345678 kom aldrig'],
    ['ordrenr. 87654321'],
    ['Order no. 12345678'],
    ['beställningsnummer: 1234567890'],
    ['leveret 12-03-2024'],
    ['2024-03-12'],
    ['12.03.2024 kl. 10.30'],
    ['31/12/2024'],
    ['pris 1.299,00 kr'],
    ['12.345.678 kr'],
    ['sporingsnummer 00370712345678901234'],
    ['postnummer 2100'],
    ['1234567'],
    ['a@b.c is no address'],
  ])('%j is kept as written', (text) => {
    expect(maskContacts(text)).toBe(text);
  });

  it('an email address anywhere in a comment is masked', () => {
    fc.assert(
      fc.property(fc.string(), fc.emailAddress(), fc.string(), (before, email, after) => {
        const masked = maskContacts(`${before} ${email} ${after}`);
        expect(masked).not.toContain(email);
        expect(masked).toContain(EMAIL_MASK);
      }),
    );
  });

  it('an eight-digit Danish number is masked however it is grouped', () => {
    const digit = fc.integer({ min: 0, max: 9 }).map(String);
    const separator = fc.constantFrom('', ' ', '-', '.');
    fc.assert(
      fc.property(
        fc.array(digit, { minLength: 8, maxLength: 8 }),
        separator,
        fc.constantFrom(2, 4),
        (digits, sep, group) => {
          const number = digits
            .join('')
            .match(new RegExp(`.{${group}}`, 'g'))
            ?.join(sep);
          expect(maskContacts(`ring på ${number ?? ''} i dag`)).toBe(`ring på ${PHONE_MASK} i dag`);
        },
      ),
    );
  });

  it('numbers of fewer than eight digits are never masked', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999 }), (n) => {
        const text = `Jeg giver ${n}, tak`;
        expect(maskContacts(text)).toBe(text);
      }),
    );
  });
});
