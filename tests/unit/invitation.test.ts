import { describe, expect, it } from 'vitest';
import { validateInvitationInput } from '../../src/domain/invitation.js';

const NOW = Date.UTC(2026, 10, 22, 12);

describe('validating an invitation', () => {
  it('keeps what the client sent, with nulls and an empty segment for what it left out', () => {
    expect(validateInvitationInput({ surveyId: 'shop.dk', channel: 'email' }, NOW)).toEqual({
      ok: true,
      value: {
        surveyId: 'shop.dk',
        channel: 'email',
        respondentId: null,
        invitationId: null,
        segment: {},
      },
    });
    const full = {
      surveyId: 'shop.dk',
      channel: 'sms',
      respondentId: '+4520304050',
      invitationId: 'order-1234',
      segment: { store: 'aarhus' },
    };
    expect(validateInvitationInput(full, NOW)).toEqual({ ok: true, value: full });
  });

  it('names each bad field under the invitation’s own names, with the batch index', () => {
    const result = validateInvitationInput(
      { surveyId: 'has space', channel: 'fax', invitationId: 'a b', extra: 1 },
      NOW,
      '[2]',
    );
    expect(result.ok).toBe(false);
    const fields = result.ok ? [] : result.problems.map((p) => p.field).sort();
    expect(fields).toEqual(['[2].channel', '[2].extra', '[2].invitationId', '[2].surveyId']);
  });

  it('refuses anything but a JSON object', () => {
    for (const body of [null, [], 'x', 7]) {
      expect(validateInvitationInput(body, NOW)).toEqual({
        ok: false,
        problems: [{ field: '(body)', message: 'must be a JSON object' }],
      });
    }
  });
});
