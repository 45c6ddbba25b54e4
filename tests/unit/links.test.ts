import { describe, expect, it } from 'vitest';
import { signInvitation, verifyInvitation } from '../../src/ingest/links.js';
import type { Invitation } from '../../src/ingest/links.js';

const secret = 'unit-link-secret-0123456789';
const now = Date.UTC(2026, 10, 22, 12);
const invitation: Invitation = {
  invitationId: '6f1d2c4e-0000-4000-8000-000000000001',
  surveyId: 'checkout',
  channel: 'email',
  respondentId: 'r_abc',
  expiresAt: now + 1000,
};

describe('invitation tokens', () => {
  it('a signed token verifies back to its invitation', () => {
    expect(verifyInvitation(secret, signInvitation(secret, invitation), now)).toEqual(invitation);
  });

  it('a token signed with another secret, altered, truncated or expired is refused', () => {
    const token = signInvitation(secret, invitation);
    const [payload = '', sig = ''] = token.split('.');
    const altered = Buffer.from(JSON.stringify({ ...invitation, surveyId: 'other' })).toString(
      'base64url',
    );
    expect(
      verifyInvitation(secret, signInvitation('another-secret-0123456789', invitation), now),
    ).toBeNull();
    expect(verifyInvitation(secret, `${altered}.${sig}`, now)).toBeNull();
    expect(verifyInvitation(secret, `${payload}.${sig.slice(0, -1)}A`, now)).toBeNull();
    expect(verifyInvitation(secret, payload, now)).toBeNull();
    expect(verifyInvitation(secret, token, now + 1000)).toBeNull();
  });
});
