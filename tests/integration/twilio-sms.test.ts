import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { twilioSignature } from '../../src/ingest/twilio-sms.js';
import {
  PUBLIC_BASE_URL,
  READ_KEY,
  TWILIO_TOKEN,
  api,
  drained,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

function sid(): string {
  return `SM${randomBytes(16).toString('hex')}`;
}

async function sms(
  base: string,
  surveyId: string,
  fields: Record<string, string>,
  sign: (url: string, params: Record<string, string>) => string = (u, p) =>
    twilioSignature(TWILIO_TOKEN, u, p),
) {
  const path = `/v1/webhooks/twilio/sms?surveyId=${surveyId}`;
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': sign(`${PUBLIC_BASE_URL}${path}`, fields),
    },
    body: new URLSearchParams(fields).toString(),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text: await res.text(),
  };
}

describe('Twilio inbound SMS', () => {
  it('a signed reply is recorded once, even when Twilio retries it, and thanked in the sender’s language', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('sms');
    const message = {
      MessageSid: sid(),
      AccountSid: `AC${'0'.repeat(32)}`,
      From: '+4512345678',
      To: '+4587654321',
      Body: 'Jeg giver 3, pakken kom for sent',
    };

    const first = await sms(url, surveyId, message);
    expect(first.status).toBe(200);
    expect(first.type).toContain('text/xml');
    expect(first.text).toContain('<Message>Tak for dit svar!</Message>');
    expect((await sms(url, surveyId, message)).status).toBe(200);

    await drained(config);
    const live = (
      await api(url, `/v1/nps/live?surveyId=${surveyId}&channel=sms`, { key: READ_KEY })
    ).body;
    expect(live).toMatchObject({ responses: 1, detractors: 1 });
  });

  it('forged, altered or unsigned requests get 403 and are recorded nowhere; STOP and replies without a number are not responses', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('sms');
    const base = { AccountSid: `AC${'0'.repeat(32)}`, From: '+46701234567', To: '+46700000000' };

    const forged = await sms(url, surveyId, { ...base, MessageSid: sid(), Body: '10' }, (u, p) =>
      twilioSignature('not-the-token', u, p),
    );
    expect(forged.status).toBe(403);
    expect(forged.type).toContain('application/problem+json');
    const signedFor = { ...base, MessageSid: sid(), Body: '1' };
    const altered = await sms(url, surveyId, { ...signedFor, Body: '10' }, () =>
      twilioSignature(
        TWILIO_TOKEN,
        `${PUBLIC_BASE_URL}/v1/webhooks/twilio/sms?surveyId=${surveyId}`,
        signedFor,
      ),
    );
    expect(altered.status).toBe(403);
    const otherSurvey = await sms(
      url,
      surveyId,
      { ...base, MessageSid: sid(), Body: '10' },
      (_u, p) =>
        twilioSignature(
          TWILIO_TOKEN,
          `${PUBLIC_BASE_URL}/v1/webhooks/twilio/sms?surveyId=other`,
          p,
        ),
    );
    expect(otherSurvey.status).toBe(403);
    const unsigned = await fetch(`${url}/v1/webhooks/twilio/sms?surveyId=${surveyId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...base, MessageSid: sid(), Body: '10' }).toString(),
    });
    expect(unsigned.status).toBe(403);

    const stop = await sms(url, surveyId, { ...base, MessageSid: sid(), Body: 'STOP' });
    expect(stop.text).not.toContain('<Message>');
    const noNumber = await sms(url, surveyId, {
      ...base,
      MessageSid: sid(),
      Body: 'Vet inte riktigt',
    });
    expect(noNumber.text).toContain('Svara gärna med en siffra från 0 till 10.');

    // A real reply after all of them is the only thing counted.
    expect((await sms(url, surveyId, { ...base, MessageSid: sid(), Body: 'Betyg 9' })).status).toBe(
      200,
    );
    await drained(config);
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body;
    expect(live).toMatchObject({ responses: 1, promoters: 1 });
  });
});
