import { createHmac } from 'node:crypto';
import { escapeMarkup as escapeHtml } from '../domain/escape-markup.js';
import { sameSecret } from '../domain/same-secret.js';
import express from 'express';
import type { Request, Router } from 'express';
import { formBody, jsonBody } from '../http/body.js';
import { HttpProblem, invalid } from '../http/problem.js';
import type { Metrics } from '../metrics.js';
import { normalizedResponse, validateResponseInput } from '../domain/response.js';
import type { Channel } from '../domain/response.js';
import { describeError } from '../errors.js';
import type { Publisher } from './publisher.js';

/**
 * One-click score links. A link's token carries the invitation id, survey, channel, pseudonymous
 * respondent, segment and expiry, signed with NPS_LINK_SECRET (invitations are made in
 * invitations.ts). Opening a link (GET) records no response, because mail scanners open every link;
 * its first open is only published as the invitation's "opened" fact for the funnel. Submitting the
 * form (POST) records the answer with responseId = invitationId, so a second submit counts once.
 */

export const LINK_LIFETIME_MS = 30 * 24 * 3600 * 1000;

export interface Invitation {
  readonly invitationId: string;
  readonly surveyId: string;
  readonly channel: Channel;
  readonly respondentId: string | null;
  /** Epoch ms after which the link is refused. */
  readonly expiresAt: number;
  /** The invitation's segment, carried into the response; absent when empty. */
  readonly segment?: Readonly<Record<string, string>>;
}

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

export function signInvitation(secret: string, invitation: Invitation): string {
  const payload = Buffer.from(JSON.stringify(invitation)).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** The invitation in a token, or null when the token is malformed, forged, altered or expired. */
export function verifyInvitation(secret: string, token: string, now: number): Invitation | null {
  const match = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match?.[1] || !match[2]) return null;
  const expected = mac(secret, match[1]);
  const given = Buffer.from(match[2], 'base64url');
  if (!sameSecret(expected, given)) return null;
  try {
    const invitation = JSON.parse(
      Buffer.from(match[1], 'base64url').toString('utf8'),
    ) as Invitation;
    return invitation.expiresAt > now ? invitation : null;
  } catch {
    return null;
  }
}

type Lang = 'en' | 'da' | 'sv';
const TEXT: Record<
  Lang,
  Record<'question' | 'comment' | 'submit' | 'thanks' | 'invalid', string>
> = {
  en: {
    question: 'How likely are you to recommend us to a friend or colleague?',
    comment: 'What is the most important reason for your score? (optional)',
    submit: 'Send',
    thanks: 'Thank you for your answer!',
    invalid: 'This link is not valid or has expired.',
  },
  da: {
    question: 'Hvor sandsynligt er det, at du vil anbefale os til en ven eller kollega?',
    comment: 'Hvad er den vigtigste grund til din score? (valgfrit)',
    submit: 'Send',
    thanks: 'Tak for dit svar!',
    invalid: 'Dette link er ikke gyldigt eller er udløbet.',
  },
  sv: {
    question: 'Hur troligt är det att du skulle rekommendera oss till en vän eller kollega?',
    comment: 'Vad är den viktigaste anledningen till ditt betyg? (valfritt)',
    submit: 'Skicka',
    thanks: 'Tack för ditt svar!',
    invalid: 'Länken är ogiltig eller har gått ut.',
  },
};

function language(req: Request): Lang {
  // English first, so a wildcard or missing Accept-Language gets English.
  const lang = req.acceptsLanguages('en', 'da', 'sv');
  return lang === 'da' || lang === 'sv' ? lang : 'en';
}

function page(lang: Lang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}fieldset{border:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}label.s{border:1px solid #888;border-radius:.25rem;padding:.4rem .6rem}textarea{width:100%;min-height:6rem}</style></head><body>${body}</body></html>`;
}

function formPage(lang: Lang, action: string, preselected: number | null): string {
  const t = TEXT[lang];
  const options = Array.from({ length: 11 }, (_, n) => {
    const checked = n === preselected ? ' checked' : '';
    return `<label class="s"><input type="radio" name="score" value="${n}"${checked} required> ${n}</label>`;
  }).join('');
  return page(
    lang,
    t.question,
    `<form method="post" action="${escapeHtml(action)}"><h1>${escapeHtml(t.question)}</h1><fieldset>${options}</fieldset><p><label>${escapeHtml(t.comment)}<br><textarea name="comment" maxlength="5000"></textarea></label></p><button type="submit">${escapeHtml(t.submit)}</button></form>`,
  );
}

export interface LinkDeps {
  readonly secret: string;
  readonly publisher: Publisher;
  readonly metrics: Metrics;
  readonly now: () => number;
  /**
   * Called on every valid open (GET) of a link, to record the invitation's first open; a failure
   * there is logged, never shown to the respondent. None: opens are not recorded.
   */
  readonly opened?: (invitation: Invitation) => Promise<void>;
  readonly log?: (message: string) => void;
}

export function linksRouter(deps: LinkDeps): Router {
  const router = express.Router();
  const json = jsonBody('64kb');
  const form = formBody('64kb');

  router.get('/v1/r/:token', async (req, res) => {
    const lang = language(req);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    );
    const invitation = verifyInvitation(deps.secret, req.params.token, deps.now());
    if (!invitation) {
      res
        .status(404)
        .type('html')
        .send(page(lang, TEXT[lang].invalid, `<h1>${escapeHtml(TEXT[lang].invalid)}</h1>`));
      return;
    }
    if (deps.opened) {
      try {
        await deps.opened(invitation);
      } catch (error) {
        deps.log?.(`link open not recorded: ${describeError(error)}`);
      }
    }
    const raw = typeof req.query.score === 'string' ? req.query.score : '';
    const preselected = /^(10|[0-9])$/.test(raw) ? Number(raw) : null;
    res.type('html').send(formPage(lang, `/v1/r/${req.params.token}`, preselected));
  });

  router.post('/v1/r/:token', form, json, async (req, res) => {
    const invitation = verifyInvitation(deps.secret, req.params.token, deps.now());
    if (!invitation)
      throw new HttpProblem(404, 'Not Found', 'The link is not valid or has expired');
    const body = (req.body ?? {}) as Record<string, unknown>;
    // Form fields arrive as text, so there a plain 0-10 is taken as a number; JSON must send one.
    const fromForm = typeof req.is('application/x-www-form-urlencoded') === 'string';
    const score =
      fromForm && typeof body.score === 'string' && /^(10|[0-9])$/.test(body.score)
        ? Number(body.score)
        : body.score;
    const at = deps.now();
    const checked = validateResponseInput(
      { surveyId: invitation.surveyId, score, comment: body.comment },
      at,
    );
    if (!checked.ok) throw invalid(checked.problems);
    const response = normalizedResponse({
      responseId: invitation.invitationId,
      surveyId: invitation.surveyId,
      channel: invitation.channel,
      score: checked.value.score,
      comment: checked.value.comment,
      locale: req.is('application/json') ? null : language(req),
      respondentId: invitation.respondentId,
      segment: invitation.segment ?? {},
      respondedAt: at,
      receivedAt: at,
    });
    await deps.publisher.publish([response]);
    deps.metrics.ingested.inc({ channel: invitation.channel, outcome: 'accepted' });
    // A JSON client (JSON body, or Accept preferring JSON) gets JSON; a browser gets a page.
    if (req.is('application/json') || req.accepts(['html', 'json']) === 'json') {
      res.status(202).json({ responseId: response.responseId });
      return;
    }
    const lang = language(req);
    res
      .type('html')
      .send(page(lang, TEXT[lang].thanks, `<h1>${escapeHtml(TEXT[lang].thanks)}</h1>`));
  });

  return router;
}
