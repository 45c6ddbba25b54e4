import { createHmac } from 'node:crypto';
import { sameSecret } from '../domain/same-secret.js';
import busboy from 'busboy';
import express from 'express';
import type { Request, RequestHandler, Router } from 'express';
import { formBody } from '../http/body.js';
import { HttpProblem, invalid } from '../http/problem.js';
import type { Metrics } from '../metrics.js';
import { normalizedResponse } from '../domain/response.js';
import { checkQuery } from '../http/query.js';
import { WebhookQuery } from '../http/schemas/ingest.js';
import { parseScoreReply } from '../domain/score-text.js';
import type { FieldProblem } from '../domain/response.js';
import { segmentStamp } from '../domain/segment.js';
import type { Publisher } from './publisher.js';
import { pseudonymize } from '../domain/pseudonym.js';

export const MAX_SIGNATURE_AGE_MS = 15 * 60 * 1000;
const MAX_FIELD_BYTES = 256 * 1024;

/** Mailgun's webhook signature: hex HMAC-SHA256 of timestamp + token, keyed with the signing key. */
export function mailgunSignature(signingKey: string, timestamp: string, token: string): string {
  return createHmac('sha256', signingKey)
    .update(timestamp + token)
    .digest('hex');
}

function sameHex(expected: string, given: string): boolean {
  // Decoded, so either case of hex matches; a non-hex character ends the decoding short.
  return (
    given.length === expected.length &&
    sameSecret(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'))
  );
}

/** Tokens seen in the last 15 minutes, so a captured post cannot be replayed to this process. */
class ReplayGuard {
  readonly #seen = new Map<string, number>();
  firstUse(token: string, now: number): boolean {
    for (const [t, at] of this.#seen) {
      if (at > now - MAX_SIGNATURE_AGE_MS) break;
      this.#seen.delete(t);
    }
    if (this.#seen.has(token)) return false;
    this.#seen.set(token, now);
    return true;
  }
}

/** Reads multipart/form-data text fields (attachments are drained and ignored). */
const multipartFields: RequestHandler = (req, _res, next) => {
  if (!req.is('multipart/form-data')) {
    next();
    return;
  }
  const fields: Record<string, string> = {};
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: { fieldSize: MAX_FIELD_BYTES, fields: 200, fileSize: 0 },
    });
  } catch {
    next(new HttpProblem(400, 'Bad Request', 'The multipart body could not be read'));
    return;
  }
  parser.on('field', (name, value) => (fields[name] = value));
  parser.on('file', (_name, stream) => stream.resume());
  parser.on('error', () => {
    next(new HttpProblem(400, 'Bad Request', 'The multipart body could not be read'));
  });
  parser.on('close', () => {
    req.body = fields;
    next();
  });
  req.pipe(parser);
};

export interface MailgunDeps {
  readonly signingKey: string;
  readonly pseudonymKey: string | undefined;
  readonly publisher: Publisher;
  readonly metrics: Metrics;
  readonly now: () => number;
}

function field(req: Request, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** POST /v1/webhooks/mailgun?surveyId=<id>: Mailgun inbound route posts (urlencoded or multipart). */
export function mailgunRouter(deps: MailgunDeps): Router {
  const router = express.Router();
  const replays = new ReplayGuard();
  router.post('/v1/webhooks/mailgun', formBody('1mb'), multipartFields, async (req, res) => {
    const timestamp = field(req, 'timestamp') ?? '';
    const token = field(req, 'token') ?? '';
    const signature = field(req, 'signature') ?? '';
    const now = deps.now();
    const signedAt = Number(timestamp) * 1000;
    const reject = (why: string) => {
      deps.metrics.ingested.inc({ channel: 'email', outcome: 'rejected' });
      return new HttpProblem(403, 'Forbidden', why);
    };
    if (
      !/^\d{1,12}$/.test(timestamp) ||
      token === '' ||
      !sameHex(mailgunSignature(deps.signingKey, timestamp, token), signature)
    ) {
      throw reject('The Mailgun signature does not match');
    }
    if (Math.abs(now - signedAt) > MAX_SIGNATURE_AGE_MS)
      throw reject('The Mailgun signature is older than 15 minutes');
    // The route's own segment (a store's or campaign's number or address): checked like the JSON
    // API's. A bad one is the operator's mistake in the provider's console, where this 400 shows.
    // Checked before the token is taken, so Mailgun's retries get the same 400, not a 403 replay.
    const problems: FieldProblem[] = [];
    const segment = segmentStamp(req.query, problems);
    if (problems.length > 0) {
      deps.metrics.ingested.inc({ channel: 'email', outcome: 'rejected' });
      throw invalid(problems);
    }
    if (!replays.firstUse(token, now)) throw reject('This Mailgun token was used before');

    const routeProblems: FieldProblem[] = [];
    const { surveyId } = checkQuery(req, WebhookQuery, routeProblems);
    if (routeProblems.length > 0) throw invalid(routeProblems);
    const messageId = field(req, 'Message-Id') ?? field(req, 'message-id');
    if (messageId === undefined || messageId.trim() === '' || messageId.length > 998) {
      throw invalid([{ field: 'Message-Id', message: 'is required' }]);
    }
    const stripped = field(req, 'stripped-text');
    const text = stripped?.trim() ? stripped : (field(req, 'body-plain') ?? '');
    const parsed = parseScoreReply(text);
    if (!parsed) {
      deps.metrics.ingested.inc({ channel: 'email', outcome: 'ignored' });
      res.status(200).json({ recorded: false, reason: 'no score 0-10 found in the reply' });
      return;
    }
    const sender = field(req, 'sender') ?? '';
    const response = normalizedResponse({
      responseId: messageId.trim(),
      surveyId,
      channel: 'email',
      score: parsed.score,
      comment: parsed.comment,
      respondentId: sender === '' ? null : pseudonymize(deps.pseudonymKey, sender),
      respondedAt: now,
      receivedAt: now,
      providerMessageId: messageId.trim(),
      segment,
    });
    await deps.publisher.publish([response]);
    deps.metrics.ingested.inc({ channel: 'email', outcome: 'accepted' });
    res.status(200).json({ recorded: true, responseId: response.responseId });
  });
  return router;
}
