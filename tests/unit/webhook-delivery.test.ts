import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/events/backoff.js';
import { matches } from '../../src/events/deliverer.js';
import { DEFAULT_CASE_RULE } from '../../src/domain/case-rule.js';
import { responseEvents } from '../../src/events/response-events.js';
import { retryAfterMs, webhookBody, webhookId } from '../../src/events/sender.js';
import { slackMessage } from '../../src/events/slack.js';
import type { Subscription } from '../../src/events/subscriptions.js';
import type { NpsResponse } from '../../src/domain/response.js';

const response: NpsResponse = {
  responseId: 'r-1',
  surveyId: 'shop.dk',
  channel: 'sms',
  score: 3,
  comment: 'Pakken kom <for> sent',
  locale: 'da-DK',
  respondentId: 'p_abc',
  segment: { plan: 'pro' },
  respondedAt: Date.parse('2026-01-02T10:00:00Z'),
  receivedAt: Date.parse('2026-01-02T10:00:05Z'),
  providerMessageId: null,
  language: 'da',
  themes: ['delivery'],
  taxonomyVersion: '1',
};

describe('webhook delivery', () => {
  it('a detractor stands for response.created and response.detractor, a promoter for response.created only', () => {
    const events = responseEvents(response, DEFAULT_CASE_RULE);
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.detractor']);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
    // Derived again (a replay), the ids are the same.
    expect(responseEvents(response, DEFAULT_CASE_RULE).map((e) => e.id)).toEqual(
      events.map((e) => e.id),
    );
    expect(events[0]?.data).toMatchObject({
      responseId: 'r-1',
      category: 'detractor',
      respondedAt: '2026-01-02T10:00:00.000Z',
      themes: ['delivery'],
    });
    expect(events[0]?.timestamp).toBe('2026-01-02T10:00:05.000Z');
    const promoter = responseEvents({ ...response, score: 10 }, DEFAULT_CASE_RULE);
    expect(promoter.map((e) => e.type)).toEqual(['response.created']);
    expect(promoter[0]?.data).toMatchObject({ category: 'promoter', caseId: null });
  });

  it('the webhook-id is one per (event, subscription), and the standardwebhooks package verifies what we sign', () => {
    expect(webhookId('evt_a', 'sub_1')).toBe(webhookId('evt_a', 'sub_1'));
    expect(
      new Set([
        webhookId('evt_a', 'sub_1'),
        webhookId('evt_a', 'sub_2'),
        webhookId('evt_b', 'sub_1'),
      ]).size,
    ).toBe(3);
    const secret = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
    const [event] = responseEvents(response, DEFAULT_CASE_RULE);
    if (!event) throw new Error('no event');
    const body = webhookBody(event, 'standard', 'https://nps.example');
    expect(Object.keys(JSON.parse(body) as object)).toEqual(['type', 'timestamp', 'data']);
    const id = webhookId(event.id, 'sub_1');
    const at = new Date();
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, body),
    };
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'response.created' });
    expect(() => new Webhook(secret).verify(body.replace('r-1', 'r-2'), headers)).toThrow();
  });

  it('a Slack message is in the survey language, with score, comment, themes and the case link', () => {
    const [, detractor] = responseEvents(response, DEFAULT_CASE_RULE);
    if (!detractor) throw new Error('no event');
    const da = slackMessage(detractor, 'https://nps.example');
    expect(da.text).toContain('Ny kritiker: 3/10');
    expect(da.text).toContain('Pakken kom &lt;for&gt; sent');
    expect(da.text).toContain('Emner: delivery');
    expect(da.text).toMatch(/<https:\/\/nps\.example\/#\/cases\/case_[\w-]+\|Åbn sagen>/);
    const [, sv] = responseEvents({ ...response, language: 'sv' }, DEFAULT_CASE_RULE);
    if (!sv) throw new Error('no event');
    expect(slackMessage(sv, 'https://nps.example').text).toContain('Öppna ärendet');
    const [, en] = responseEvents({ ...response, language: null, locale: null }, DEFAULT_CASE_RULE);
    if (!en) throw new Error('no event');
    expect(slackMessage(en, 'https://nps.example').text).toContain('New detractor: 3/10');
  });

  it('retries back off exponentially with jitter, and Retry-After, in seconds or as a date, wins', () => {
    expect(retryDelay(1, 1000, null, () => 0)).toBe(500);
    expect(retryDelay(1, 1000, null, () => 0.999999)).toBeCloseTo(1000, 0);
    expect(retryDelay(4, 1000, null, () => 0)).toBe(4000);
    expect(retryDelay(40, 1000, null, () => 0)).toBe(1_800_000);
    expect(retryDelay(1, 1000, 30_000, () => 0)).toBe(30_000);
    expect(retryDelay(9, 1000, 0, () => 0)).toBe(1000);
    const now = Date.parse('2026-01-02T10:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Fri, 02 Jan 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });

  it('a subscription takes its event types, its survey, and nothing from before it was created', () => {
    const [created, detractor] = responseEvents(response, DEFAULT_CASE_RULE);
    if (!created || !detractor) throw new Error('no event');
    const sub: Subscription = {
      subscriptionId: 'sub_1',
      url: 'https://x.example/',
      events: ['response.detractor'],
      surveyId: 'shop.dk',
      format: 'standard',
      secret: 'whsec_x',
      createdAt: '2026-01-02T09:00:00.000Z',
    };
    expect(matches(sub, detractor)).toBe(true);
    expect(matches(sub, created)).toBe(false);
    expect(matches({ ...sub, surveyId: 'shop.se' }, detractor)).toBe(false);
    expect(matches({ ...sub, surveyId: null }, detractor)).toBe(true);
    expect(matches({ ...sub, createdAt: '2026-01-02T11:00:00.000Z' }, detractor)).toBe(false);
  });
});
