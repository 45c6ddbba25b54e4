import { createHmac } from 'node:crypto';
import { escapeMarkup } from '../domain/escape-markup.js';
import { sameSecret } from '../domain/same-secret.js';
import express from 'express';
import type { Router } from 'express';
import { parseScoreReply } from '../domain/score-text.js';
import { normalizedResponse } from '../domain/response.js';
import { checkQuery } from '../http/query.js';
import { TwilioFormSchema, WebhookQuery } from '../http/schemas/ingest.js';
import { conforms, schemaProblems } from '../domain/schema.js';
import { formBody } from '../http/body.js';
import { HttpProblem, invalid } from '../http/problem.js';
import type { Metrics } from '../metrics.js';
import type { FieldProblem } from '../domain/response.js';
import { segmentStamp } from '../domain/segment.js';
import type { Publisher } from './publisher.js';
import { pseudonymize } from '../domain/pseudonym.js';

/**
 * Twilio's request signature: base64 HMAC-SHA1, keyed with the auth token, of the full URL
 * Twilio called followed by every POST parameter name and value, sorted by name.
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Readonly<Record<string, string>>,
): string {
  const payload = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + (params[key] ?? ''), url);
  return createHmac('sha1', authToken).update(payload, 'utf8').digest('base64');
}

export function signatureMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && sameSecret(expected, given);
}

// Carrier and Twilio opt-out words, and their Danish and Swedish counterparts: never a response.
const OPT_OUT = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'AFMELD',
  'AVSLUTA',
  'AVREGISTRERA',
  'START',
  'HELP',
  'INFO',
]);

type Lang = 'da' | 'sv' | 'en';
const REPLIES: Record<Lang, { thanks: string; ask: string }> = {
  da: { thanks: 'Tak for dit svar!', ask: 'Svar venligst med et tal fra 0 til 10.' },
  sv: { thanks: 'Tack för ditt svar!', ask: 'Svara gärna med en siffra från 0 till 10.' },
  en: { thanks: 'Thank you for your answer!', ask: 'Please reply with a number from 0 to 10.' },
};

/** The respondent's language, guessed from the country code of the sending number. */
function languageOf(from: string): Lang {
  if (from.startsWith('+45')) return 'da';
  if (from.startsWith('+46')) return 'sv';
  return 'en';
}

function twiml(message: string | null): string {
  const escaped = message === null ? null : escapeMarkup(message);
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${escaped ? `<Message>${escaped}</Message>` : ''}</Response>`;
}

export interface TwilioDeps {
  readonly authToken: string;
  readonly publicBaseUrl: string;
  readonly pseudonymKey: string | undefined;
  readonly publisher: Publisher;
  readonly metrics: Metrics;
  readonly now: () => number;
}

/** POST /v1/webhooks/twilio/sms?surveyId=<id>: Twilio's inbound SMS webhook. */
export function twilioSmsRouter(deps: TwilioDeps): Router {
  const router = express.Router();
  router.post('/v1/webhooks/twilio/sms', formBody('64kb'), async (req, res) => {
    const params = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<
      string,
      unknown
    >;
    const strings = Object.fromEntries(
      Object.entries(params).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const url = deps.publicBaseUrl + req.originalUrl;
    if (
      !signatureMatches(
        twilioSignature(deps.authToken, url, strings),
        req.get('x-twilio-signature'),
      )
    ) {
      deps.metrics.ingested.inc({ channel: 'sms', outcome: 'rejected' });
      throw new HttpProblem(403, 'Forbidden', 'X-Twilio-Signature does not match this request');
    }
    const routeProblems: FieldProblem[] = [];
    const { surveyId } = checkQuery(req, WebhookQuery, routeProblems);
    if (routeProblems.length > 0) throw invalid(routeProblems);
    // The route's own segment (a store's or campaign's number or address): checked like the JSON
    // API's. A bad one is the operator's mistake in the provider's console, where this 400 shows.
    const problems: FieldProblem[] = [];
    const segment = segmentStamp(req.query, problems);
    if (problems.length > 0) {
      deps.metrics.ingested.inc({ channel: 'sms', outcome: 'rejected' });
      throw invalid(problems);
    }
    const fieldProblems = schemaProblems(TwilioFormSchema, strings);
    if (fieldProblems.length > 0 || !conforms(TwilioFormSchema, strings)) {
      throw invalid(fieldProblems);
    }
    const { MessageSid: sid, From: from = '', Body: body = '' } = strings;
    const lang = languageOf(from);
    res.type('text/xml');
    if (OPT_OUT.has(body.trim().toUpperCase())) {
      deps.metrics.ingested.inc({ channel: 'sms', outcome: 'ignored' });
      res.send(twiml(null));
      return;
    }
    const parsed = parseScoreReply(body);
    if (!parsed) {
      deps.metrics.ingested.inc({ channel: 'sms', outcome: 'ignored' });
      res.send(twiml(REPLIES[lang].ask));
      return;
    }
    const at = deps.now();
    const response = normalizedResponse({
      responseId: sid,
      surveyId,
      channel: 'sms',
      score: parsed.score,
      comment: parsed.comment,
      locale: lang,
      respondentId: from === '' ? null : pseudonymize(deps.pseudonymKey, from),
      respondedAt: at,
      receivedAt: at,
      providerMessageId: sid,
      segment,
    });
    await deps.publisher.publish([response]);
    deps.metrics.ingested.inc({ channel: 'sms', outcome: 'accepted' });
    res.send(twiml(REPLIES[lang].thanks));
  });
  return router;
}
