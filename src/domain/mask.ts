/**
 * Masking the contacts a respondent writes into a comment ("ring mig på 12 34 56 78"), before the
 * comment is stored or analysed.
 *
 * What counts as a phone number, decided here once:
 * - digits after "+" (or "00") and a country code, 7-15 digits in all: always;
 * - otherwise 8-15 digits written as one number, optionally grouped by spaces, dots, dashes or
 *   parentheses: Danish "12 34 56 78", Swedish "070-123 45 67", UK "07700 900123", US
 *   "(555) 123-4567";
 * - never: fewer than 8 digits (a score, a price, a postcode, a short order number), a date
 *   (31-12-2024, 2024-12-31, 31.12.2024) or a time (10.30), an amount grouped in thousands
 *   (1.234.567), more than 15 digits (a parcel tracking number), a number right after "#" or after
 *   an order label ("ordre 12345678", "order no. 12345678"): those are order numbers, which the
 *   shop needs to act on and which identify nobody by themselves.
 * Without an order label an 8-digit run is taken for a Danish phone number: leaking a phone number
 * costs more than hiding an order number.
 */

export const EMAIL_MASK = '[email]';
export const PHONE_MASK = '[phone]';

// Local part (the RFC 5322 characters, and letters of any script), "@" (or the "(at)" people
// write to dodge spam bots), a domain with a dot and a top-level label of two or more characters.
const LOCAL = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~.-]";
const LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?';
const EMAIL = new RegExp(
  `(?<!${LOCAL})${LOCAL}+\\s?(?:@|\\(at\\)|\\[at\\])\\s?(?:${LABEL}\\.)+\\p{L}[\\p{L}\\p{N}-]*[\\p{L}\\p{N}](?![\\p{L}\\p{N}])`,
  'giu',
);

// Dates and times are matched first and given back unchanged, so their digits cannot start or
// join a phone number. Day and month are range-checked: "12.34.56.78" is a phone number.
const DAY = '(?:0?[1-9]|[12]\\d|3[01])';
const MONTH = '(?:0?[1-9]|1[0-2])';
const DATE = `${DAY}(?<s1>[./-])${MONTH}\\k<s1>(?:\\d{4}|\\d{2})|\\d{4}(?<s2>[./-])${MONTH}\\k<s2>${DAY}`;
const TIME = '(?:[01]?\\d|2[0-3])[:.][0-5]\\d';
// Digits with at most two separator characters between two of them: "+45 12 34 56 78",
// "(555) 123-4567", "070-123 45 67".
const CANDIDATE = '(?:\\(?\\+\\s?|\\b00)?\\(?\\d(?:[ \\u00a0.\\-()]{0,2}\\d)*';
const NUMBERS = new RegExp(
  `(?<![\\p{L}\\p{N}#+_/@.,-])(?:(?<keep>${DATE}|${TIME})|${CANDIDATE})(?![\\p{L}\\p{N}]|[.,:/-]\\p{N})`,
  'gu',
);

const ORDER_LABEL =
  /(?:order|ordre|ordrenr|ordernr|ordrenummer|ordernummer|bestillingsnummer|bestillingsnr|beställningsnummer|beställningsnr|ordre-nr|order-nr|order\s*(?:no|nr|number|id))\.?\s*[:#]?\s*(?:nr\.?|no\.?)?\s*$/iu;
const THOUSANDS = /^\d{1,3}(?:[.,]\d{3})+$/u;
const NOT_DIGIT = /\D/gu;

function isPhone(candidate: string, before: string): boolean {
  const digits = candidate.replace(NOT_DIGIT, '').length;
  const international = candidate.replace(/^\(/u, '').startsWith('+');
  if (international) return digits >= 7 && digits <= 15;
  if (digits < 8 || digits > 15) return false;
  if (THOUSANDS.test(candidate)) return false;
  return !ORDER_LABEL.test(before);
}

/** `text` with email addresses replaced by `[email]` and phone numbers by `[phone]`. */
export function maskContacts(text: string): string {
  const withoutEmails = text.replace(EMAIL, EMAIL_MASK);
  let masked = '';
  let from = 0;
  for (const match of withoutEmails.matchAll(NUMBERS)) {
    if (match.groups?.keep !== undefined) continue;
    if (!isPhone(match[0], withoutEmails.slice(Math.max(0, match.index - 40), match.index)))
      continue;
    masked += withoutEmails.slice(from, match.index) + PHONE_MASK;
    from = match.index + match[0].length;
  }
  return masked + withoutEmails.slice(from);
}
