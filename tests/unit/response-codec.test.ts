import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PoisonRecordError, checkResponse } from '../../src/kafka/response-codec.js';

const AT = Date.UTC(2026, 10, 22, 10, 0);
const minimal = {
  responseId: 'r-1',
  surveyId: 'shop.dk',
  channel: 'sms',
  score: 7,
  respondedAt: AT,
};

describe('the record check after decoding', () => {
  it('fills what an older writer left out: nulls, no segment, receivedAt = respondedAt', () => {
    expect(checkResponse(minimal)).toEqual({
      ...minimal,
      comment: null,
      locale: null,
      respondentId: null,
      segment: {},
      receivedAt: AT,
      providerMessageId: null,
      language: null,
      themes: null,
      taxonomyVersion: null,
    });
  });

  it('keeps every field a current writer sets', () => {
    const full = {
      ...minimal,
      comment: 'hurtig levering',
      locale: 'da',
      respondentId: 'p-abc',
      segment: { region: 'north' },
      receivedAt: AT + 5,
      providerMessageId: 'SM1',
      language: 'da',
      themes: ['delivery'],
      taxonomyVersion: 'v3',
    };
    expect(checkResponse(full)).toEqual(full);
  });

  it.each([
    [{ responseId: '' }, 'responseId missing'],
    [{ responseId: undefined }, 'responseId missing'],
    [{ surveyId: 'has space' }, 'surveyId invalid'],
    [{ surveyId: 'a'.repeat(65) }, 'surveyId invalid'],
    [{ score: 11 }, 'score 11 is not an integer 0-10'],
    [{ score: 7.5 }, 'score 7.5 is not an integer 0-10'],
    [{ score: -1 }, 'score -1 is not an integer 0-10'],
    [{ channel: 'fax' }, 'channel invalid'],
    [{ respondedAt: Number.NaN }, 'respondedAt invalid'],
    [{ respondedAt: '2026-11-22' }, 'respondedAt invalid'],
  ])('refuses %o as a poison record: %s', (change, reason) => {
    const check = () => checkResponse({ ...minimal, ...change });
    expect(check).toThrow(PoisonRecordError);
    expect(check).toThrow(reason);
  });

  it('accepts a record exactly when every checked field is valid', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('r-1', ''), fc.string({ maxLength: 3 })),
        fc.oneof(fc.constantFrom('shop.dk', 'a b', ''), fc.string({ maxLength: 3 })),
        fc.oneof(fc.integer({ min: -2, max: 12 }), fc.double(), fc.constant('7')),
        fc.constantFrom('web', 'sms', 'email', 'fax', 'SMS'),
        fc.oneof(fc.constant(AT), fc.constant(Number.POSITIVE_INFINITY), fc.constant(null)),
        (responseId, surveyId, score, channel, respondedAt) => {
          const valid =
            responseId !== '' &&
            /^[A-Za-z0-9._-]{1,64}$/.test(surveyId) &&
            typeof score === 'number' &&
            Number.isInteger(score) &&
            score >= 0 &&
            score <= 10 &&
            ['web', 'sms', 'email'].includes(channel) &&
            respondedAt === AT;
          const record = { responseId, surveyId, score, channel, respondedAt };
          if (valid) expect(checkResponse(record)).toMatchObject(record);
          else expect(() => checkResponse(record)).toThrow(PoisonRecordError);
        },
      ),
      { numRuns: 500 },
    );
  });
});
