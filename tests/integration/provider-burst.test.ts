import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mailgunSignature } from '../../src/ingest/mailgun.js';
import { twilioSignature } from '../../src/ingest/twilio-sms.js';
import {
  MAILGUN_KEY,
  PUBLIC_BASE_URL,
  READ_KEY,
  TWILIO_TOKEN,
  api,
  drained,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

/** Runs `tasks` with at most `width` in flight; answers in order. */
async function pooled<T>(tasks: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return out;
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

describe('provider webhooks and the per-address limit', () => {
  it('a burst of 2,000 signed Twilio and 2,000 Mailgun webhooks from one address is all counted; forged ones are limited', async () => {
    // The default limit: 50 requests a second per address, burst 100, far below the burst.
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('burst');
    const smsPath = `/v1/webhooks/twilio/sms?surveyId=${surveyId}`;
    const mailPath = `/v1/webhooks/mailgun?surveyId=${surveyId}`;
    const n = 2000;
    const smsScore = (i: number) => i % 11;
    const mailScore = (i: number) => (i * 7) % 11;

    const sms = Array.from({ length: n }, (_, i) => () => {
      const fields = {
        MessageSid: `SM${randomBytes(16).toString('hex')}`,
        AccountSid: `AC${'0'.repeat(32)}`,
        From: `+4520${String(i).padStart(6, '0')}`,
        To: '+4587654321',
        Body: String(smsScore(i)),
      };
      return fetch(`${url}${smsPath}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(
            TWILIO_TOKEN,
            `${PUBLIC_BASE_URL}${smsPath}`,
            fields,
          ),
        },
        body: form(fields),
      }).then((r) => r.status);
    });
    const mail = Array.from({ length: n }, (_, i) => () => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const token = randomBytes(25).toString('hex');
      const fields = {
        sender: `kunde${i}@example.se`,
        'Message-Id': `<${surveyId}.${i}@mail.example.se>`,
        'stripped-text': `Betyg ${mailScore(i)}`,
        timestamp,
        token,
        signature: mailgunSignature(MAILGUN_KEY, timestamp, token),
      };
      return fetch(`${url}${mailPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form(fields),
      }).then((r) => r.status);
    });
    // Interleaved, as a provider's retries and a campaign's replies would arrive.
    const statuses = await pooled(
      sms.flatMap((s, i) => [s, mail[i] as () => Promise<number>]),
      32,
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // Forged signatures from the same address spend its tokens: at most the burst (100) plus the
    // rate over the time it took are answered 403, the rest 429, and none is recorded.
    const forged = await pooled(
      Array.from({ length: 300 }, () => () => {
        const fields = { MessageSid: `SM${randomBytes(16).toString('hex')}`, Body: '10' };
        return fetch(`${url}${smsPath}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilioSignature(
              'not-the-token',
              `${PUBLIC_BASE_URL}${smsPath}`,
              fields,
            ),
          },
          body: form(fields),
        }).then((r) => r.status);
      }),
      32,
    );
    expect(new Set(forged)).toEqual(new Set([403, 429]));

    await drained(config);
    const expected = { responses: 2 * n, promoters: 0, detractors: 0 };
    for (let i = 0; i < n; i++) {
      for (const score of [smsScore(i), mailScore(i)]) {
        if (score >= 9) expected.promoters++;
        else if (score <= 6) expected.detractors++;
      }
    }
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}&window=1h`, { key: READ_KEY }))
      .body;
    expect(live).toMatchObject(expected);
  });
});
