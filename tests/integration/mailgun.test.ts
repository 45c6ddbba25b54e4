import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mailgunSignature } from '../../src/ingest/mailgun.js';
import {
  MAILGUN_KEY,
  READ_KEY,
  api,
  drained,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

function signed(
  fields: Record<string, string>,
  at = Date.now(),
  key = MAILGUN_KEY,
): Record<string, string> {
  const timestamp = String(Math.floor(at / 1000));
  const token = randomBytes(25).toString('hex');
  return { ...fields, timestamp, token, signature: mailgunSignature(key, timestamp, token) };
}

async function post(
  base: string,
  surveyId: string,
  fields: Record<string, string>,
  multipart = false,
) {
  const url = `${base}/v1/webhooks/mailgun?surveyId=${surveyId}`;
  let body: FormData | string;
  const headers: Record<string, string> = {};
  if (multipart) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('attachment-1', new Blob(['%PDF-1.4 not really']), 'invoice.pdf');
    body = form;
  } else {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(fields).toString();
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('Mailgun inbound email', () => {
  it('signed replies, urlencoded or multipart, are recorded once per Message-Id', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('email');
    const reply = {
      sender: 'kunde@example.se',
      'Message-Id': `<${uniqueName('m')}@mail.example.se>`,
      'stripped-text': 'Betyg 10 - snabb leverans',
      'body-plain':
        'Betyg 10 - snabb leverans\n\nDen 3 nov. 2026 kl. 10:15 skrev Butik:\n> Betygsätt oss 0-10',
    };
    expect(await post(url, surveyId, signed(reply))).toMatchObject({
      status: 200,
      body: { recorded: true },
    });
    // Mailgun retrying the same message (a fresh token each time) is still one response.
    expect((await post(url, surveyId, signed(reply), true)).status).toBe(200);
    const other = {
      ...reply,
      'Message-Id': `<${uniqueName('m')}@mail.example.se>`,
      'stripped-text': '',
      'body-plain': 'Jeg giver 6\n\n> gammel tekst 10',
    };
    expect((await post(url, surveyId, signed(other), true)).status).toBe(200);

    await drained(config);
    const live = (
      await api(url, `/v1/nps/live?surveyId=${surveyId}&channel=email`, { key: READ_KEY })
    ).body;
    expect(live).toMatchObject({ responses: 2, promoters: 1, detractors: 1 });
  });

  it('a wrong signature, an old timestamp or a replayed token is refused with 403 and recorded nowhere', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('email');
    const reply = (n: number) => ({
      sender: 'a@example.dk',
      'Message-Id': `<${uniqueName('m')}@x>`,
      'stripped-text': String(n),
    });

    expect((await post(url, surveyId, signed(reply(10), Date.now(), 'wrong-key'))).status).toBe(
      403,
    );
    expect((await post(url, surveyId, signed(reply(10), Date.now() - 16 * 60 * 1000))).status).toBe(
      403,
    );
    const once = signed(reply(0));
    expect((await post(url, surveyId, once)).status).toBe(200);
    expect((await post(url, surveyId, { ...once, 'Message-Id': '<replayed@x>' })).status).toBe(403);
    expect(
      (await post(url, surveyId, { ...signed(reply(10)), 'stripped-text': 'tak' })).body,
    ).toMatchObject({ recorded: false });

    await drained(config);
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body;
    expect(live).toMatchObject({ responses: 1, detractors: 1 });
  });
});
