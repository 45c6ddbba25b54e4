import { describe, expect, it } from 'vitest';
import {
  INGEST_KEY,
  PUBLIC_BASE_URL,
  READ_KEY,
  api,
  drained,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

describe('invitations and score links', () => {
  it('opening a score link records nothing; submitting it records one response, however often it is sent', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('links');
    const created = await api(url, '/v1/invitations', {
      key: INGEST_KEY,
      body: { surveyId, channel: 'email', respondentId: 'kunde@example.dk' },
    });
    expect(created.status).toBe(201);
    const {
      invitationId,
      token,
      url: link,
      scoreUrls,
    } = created.body as {
      invitationId: string;
      token: string;
      url: string;
      scoreUrls: string[];
    };
    expect(link).toBe(`${PUBLIC_BASE_URL}/v1/r/${token}`);
    expect(scoreUrls).toHaveLength(11);
    expect(scoreUrls[7]).toBe(`${link}?score=7`);
    expect(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).not.toContain(
      'kunde@example.dk',
    );

    // A mail scanner (or the respondent) opening every link.
    for (let n = 0; n <= 10; n++) {
      const opened = await fetch(`${url}/v1/r/${token}?score=${n}`, {
        headers: { 'accept-language': 'da' },
      });
      expect(opened.status).toBe(200);
      const html = await opened.text();
      expect(html).toContain(`value="${n}" checked`);
      expect(html).toContain('Hvor sandsynligt');
    }

    const submitted = await fetch(`${url}/v1/r/${token}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
        'accept-language': 'sv',
      },
      body: new URLSearchParams({ score: '4', comment: 'Leveransen var sen' }).toString(),
    });
    expect(submitted.status).toBe(200);
    expect(await submitted.text()).toContain('Tack för ditt svar!');
    const again = await api(url, `/v1/r/${token}`, { body: { score: 10 } });
    expect(again).toMatchObject({ status: 202, body: { responseId: invitationId } });

    await drained(config);
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body;
    expect(live).toMatchObject({ responses: 1, detractors: 1, promoters: 0 });
  });

  it('a forged or altered token is refused and records nothing; a bad score names the field', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('links');
    const created = await api(url, '/v1/invitations', {
      key: INGEST_KEY,
      body: { surveyId, channel: 'sms' },
    });
    const token = (created.body as { token: string }).token;
    const [payload = '', sig = ''] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ invitationId: 'x', surveyId, channel: 'sms', respondentId: null, expiresAt: Date.now() + 1e9 })).toString('base64url')}.${sig}`;

    expect((await fetch(`${url}/v1/r/${forged}?score=10`)).status).toBe(404);
    expect((await api(url, `/v1/r/${forged}`, { body: { score: 10 } })).status).toBe(404);
    expect(
      (await api(url, `/v1/r/${payload}.${'A'.repeat(43)}`, { body: { score: 10 } })).status,
    ).toBe(404);
    const bad = await api(url, `/v1/r/${token}`, { body: { score: 11 } });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('score must be an integer from 0 to 10');
    expect(
      (await api(url, '/v1/invitations', { key: INGEST_KEY, body: { surveyId, channel: 'fax' } }))
        .status,
    ).toBe(400);
    expect(
      (await api(url, '/v1/invitations', { key: READ_KEY, body: { surveyId, channel: 'sms' } }))
        .status,
    ).toBe(403);

    expect((await api(url, `/v1/r/${token}`, { body: { score: 9 } })).status).toBe(202);
    await drained(config);
    const live = (await api(url, `/v1/nps/live?surveyId=${surveyId}`, { key: READ_KEY })).body;
    expect(live).toMatchObject({ responses: 1, promoters: 1 });
  });
});
