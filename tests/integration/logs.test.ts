import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { mailgunSignature } from '../../src/ingest/mailgun.js';
import { twilioSignature } from '../../src/ingest/twilio-sms.js';
import { childEnv, exited, startChild } from '../support/child.js';
import {
  INGEST_KEY,
  MAILGUN_KEY,
  PUBLIC_BASE_URL,
  TWILIO_TOKEN,
  api,
  cleanupPipeline,
  drained,
  pipelineEnv,
  uniqueName,
} from '../support/pipeline.js';

describe('logs', () => {
  it('a full run through every channel, good and bad input alike, logs no phone number, email or comment', async () => {
    const env = childEnv(pipelineEnv());
    cleanupPipeline(env);
    const config = loadConfig({ ...process.env, ...env });
    const nps = await startChild([], env);
    const surveyId = uniqueName('pii-logs');
    const email = 'maja.jensen@example.dk';
    const phone = '+4529876543';
    const comment = 'Leveringen var forsinket CANARY-COMMENT';

    await api(nps.url, '/v1/responses', {
      key: INGEST_KEY,
      body: { surveyId, score: 2, comment, respondentId: email },
    });
    await api(nps.url, '/v1/responses', {
      key: INGEST_KEY,
      body: { surveyId, score: 42, comment, respondentId: phone },
    });
    await api(nps.url, '/v1/responses', {
      key: INGEST_KEY,
      raw: `{"surveyId":"${surveyId}","comment":"${comment}",`,
    });

    const smsPath = `/v1/webhooks/twilio/sms?surveyId=${surveyId}`;
    const sms = {
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      From: phone,
      To: '+4570000000',
      Body: `3 ${comment}`,
    };
    await fetch(`${nps.url}${smsPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}${smsPath}`, sms),
      },
      body: new URLSearchParams(sms).toString(),
    });
    await fetch(`${nps.url}${smsPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': 'forged',
      },
      body: new URLSearchParams(sms).toString(),
    });

    const timestamp = String(Math.floor(Date.now() / 1000));
    const token = randomBytes(25).toString('hex');
    await fetch(`${nps.url}/v1/webhooks/mailgun?surveyId=${surveyId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        sender: email,
        'Message-Id': `<${uniqueName('m')}@example.dk>`,
        'stripped-text': `Jeg giver 4. ${comment}`,
        timestamp,
        token,
        signature: mailgunSignature(MAILGUN_KEY, timestamp, token),
      }).toString(),
    });

    await drained(config);
    nps.process.kill('SIGTERM');
    expect(await exited(nps.process)).toBe(0);

    const output = nps.output();
    expect(output).toContain('listening on');
    for (const secret of [email, phone, '29876543', 'CANARY-COMMENT', 'forsinket']) {
      expect(output, `logs contain ${secret}`).not.toContain(secret);
    }
  });
});
