import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizedResponse, validateResponseInput } from '../../src/domain/response.js';
import { invalidItemWithFields } from '../support/hostile.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0);
const SURVEY = /^[A-Za-z0-9._-]{1,64}$/;
// Text a client may send: no control characters but tab and newline (none at all in comments here).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ANY_CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const BAD_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** A valid item: every field inside its limits, optional ones sometimes left out. */
const validItem = fc.record(
  {
    surveyId: fc.stringMatching(SURVEY),
    score: fc.integer({ min: 0, max: 10 }),
    comment: fc.string({ maxLength: 200, unit: 'grapheme' }).filter((c) => !ANY_CONTROL.test(c)),
    responseId: fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
    respondedAt: fc
      .integer({ min: Date.UTC(2000, 0, 1), max: NOW + 5 * 60_000 })
      .map((ms) => new Date(ms).toISOString()),
    channel: fc.constantFrom('web', 'sms', 'email'),
    locale: fc.constantFrom('da', 'sv', 'en-GB', 'pt-BR'),
    segment: fc.dictionary(
      fc.stringMatching(/^[a-z]{1,64}$/),
      fc.string({ maxLength: 256 }).filter((v) => !BAD_CONTROL.test(v)),
      { maxKeys: 10 },
    ),
  },
  { requiredKeys: ['surveyId', 'score'] },
);

describe('validating a response item', () => {
  it('refuses every item with a broken field, naming each broken field', () => {
    fc.assert(
      fc.property(invalidItemWithFields, ({ item, broken }) => {
        const result = validateResponseInput(item, NOW);
        expect(result.ok).toBe(false);
        const named = result.ok ? [] : result.problems.map((p) => p.field);
        for (const field of broken) {
          expect(
            named.some((f) => f === field || f.startsWith(`${field}.`)),
            field,
          ).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names a batch item by its index', () => {
    const result = validateResponseInput({ surveyId: 'shop', score: 11 }, NOW, '[3]');
    expect(result).toEqual({
      ok: false,
      problems: [{ field: '[3].score', message: 'must be an integer from 0 to 10' }],
    });
  });

  it('accepts every valid item and keeps what it said, comment trimmed, channel web by default', () => {
    fc.assert(
      fc.property(validItem, (item) => {
        const result = validateResponseInput(item, NOW);
        if (!result.ok) throw new Error(JSON.stringify(result.problems));
        const trimmed = item.comment?.trim();
        expect(result.value).toEqual({
          surveyId: item.surveyId,
          score: item.score,
          comment: trimmed === undefined || trimmed === '' ? null : trimmed,
          responseId: item.responseId ?? null,
          respondentId: null,
          respondedAt: item.respondedAt === undefined ? null : Date.parse(item.respondedAt),
          channel: item.channel ?? 'web',
          locale: item.locale ?? null,
          segment: item.segment ?? {},
        });
      }),
      { numRuns: 300 },
    );
  });

  it('allows respondedAt up to five minutes ahead of the clock, not more', () => {
    const at = (ms: number) => ({
      surveyId: 's',
      score: 5,
      respondedAt: new Date(ms).toISOString(),
    });
    expect(validateResponseInput(at(NOW + 300_000), NOW).ok).toBe(true);
    expect(validateResponseInput(at(NOW + 301_000), NOW)).toMatchObject({
      ok: false,
      problems: [
        { field: 'respondedAt', message: 'must not be more than 5 minutes in the future' },
      ],
    });
  });
});

describe('the normalized response', () => {
  it('fills the fields a channel does not know with their empty values', () => {
    const given = {
      responseId: 'SM1',
      surveyId: 'shop',
      channel: 'sms',
      score: 8,
      respondentId: 'p1',
      respondedAt: NOW,
      receivedAt: NOW + 1,
    } as const;
    expect(normalizedResponse(given)).toEqual({
      ...given,
      comment: null,
      locale: null,
      segment: {},
      providerMessageId: null,
      language: null,
      themes: null,
      taxonomyVersion: null,
    });
  });

  it('masks phone numbers and emails a customer wrote in the comment, before anything keeps it', () => {
    const response = normalizedResponse({
      responseId: 'r1',
      surveyId: 'shop',
      channel: 'web',
      score: 3,
      comment: 'Ring til mig på +45 20 30 40 50 eller skriv til kunde@example.dk',
      respondedAt: NOW,
      receivedAt: NOW,
    });
    expect(response.comment).toBe('Ring til mig på [phone] eller skriv til [email]');
  });
});
