import { describe, expect, it } from 'vitest';
import { signatureMatches, twilioSignature } from '../../src/ingest/twilio-sms.js';

describe("Twilio's request signature", () => {
  // The voice-request vector of Twilio's own Ruby library (spec/util/request_validator_spec.rb).
  const token = '2bd9e9638872de601313dc77410d3b23';
  const url = 'http://twiliotests.heroku.com/validate/voice';
  const params = {
    ToState: 'California',
    CalledState: 'California',
    Direction: 'inbound',
    FromState: 'CA',
    AccountSid: 'ACba8bc05eacf94afdae398e642c9cc32d',
    Caller: '+14153595711',
    CallerZip: '94108',
    CallerCountry: 'US',
    From: '+14153595711',
    FromCity: 'SAN FRANCISCO',
    CallerCity: 'SAN FRANCISCO',
    To: '+14157669926',
    FromZip: '94108',
    FromCountry: 'US',
    ToCity: '',
    CallStatus: 'ringing',
    CalledCity: '',
    CallerState: 'CA',
    CalledZip: '',
    ToZip: '',
    ToCountry: 'US',
    CallSid: 'CA136d09cd59a3c0ec8dbff44da5c03f31',
    CalledCountry: 'US',
    Called: '+14157669926',
    ApiVersion: '2010-04-01',
    ApplicationSid: 'AP44efecad51364e80b133bb7c07eb8204',
  };

  it("matches Twilio's documented example", () => {
    expect(twilioSignature(token, url, params)).toBe('oVb2kXoVy8GEfwBDjR8bk/ZZ6eA=');
  });

  it('changes when a parameter, the URL or the token changes', () => {
    const good = twilioSignature(token, url, params);
    expect(twilioSignature(token, url, { ...params, Caller: '+14153595712' })).not.toBe(good);
    expect(twilioSignature(token, `${url}?surveyId=x`, params)).not.toBe(good);
    expect(twilioSignature(`${token}0`, url, params)).not.toBe(good);
  });

  it('compares only equal signatures as matching, missing ones never', () => {
    expect(signatureMatches('abc=', 'abc=')).toBe(true);
    expect(signatureMatches('abc=', 'abd=')).toBe(false);
    expect(signatureMatches('abc=', 'abc')).toBe(false);
    expect(signatureMatches('abc=', undefined)).toBe(false);
  });
});
