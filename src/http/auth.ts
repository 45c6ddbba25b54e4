import { createHash } from 'node:crypto';
import { sameSecret } from '../domain/same-secret.js';
import type { Request, RequestHandler, Response } from 'express';
import type { ApiKey, Scope } from '../config/config.js';
import { HttpProblem } from './problem.js';
import type { RateLimiter } from './rate-limit.js';
import { tooManyRequests } from './rate-limit.js';

const UNAUTHORIZED = { 'WWW-Authenticate': 'Bearer' };

/**
 * Bearer-key check: the SHA-256 of the given key is compared, in constant time, with every
 * configured key's. Ingest calls spend a token of the key's rate limit. A key restricted to some surveys leaves that list in res.locals for
 * `allowSurvey`.
 *
 * Dashboard sessions (src/dashboard): without an Authorization header, `sessionKey` may name the
 * key of the request's signed session cookie. It counts for the read scope only, whose endpoints
 * are all GETs; with SameSite=Strict on the cookie, another site cannot make a browser use it.
 */
export function authorizer(
  apiKeys: readonly ApiKey[],
  ingestLimit?: RateLimiter,
  sessionKey?: (req: Request) => ApiKey | undefined,
) {
  return (scope: Scope): RequestHandler =>
    (req, res, next) => {
      const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
      const session = !match && scope === 'read' && sessionKey ? sessionKey(req) : undefined;
      if (session?.scopes.has('read')) {
        res.locals.surveys = session.surveys;
        next();
        return;
      }
      if (!match?.[1]) {
        next(
          new HttpProblem(
            401,
            'Unauthorized',
            'Send an API key as Authorization: Bearer <key>',
            {},
            UNAUTHORIZED,
          ),
        );
        return;
      }
      const found = findKey(apiKeys, match[1]);
      if (!found) next(new HttpProblem(401, 'Unauthorized', 'Unknown API key', {}, UNAUTHORIZED));
      else if (!found.scopes.has(scope))
        next(new HttpProblem(403, 'Forbidden', `This key lacks the ${scope} scope`));
      else {
        const wait =
          scope === 'ingest' && ingestLimit ? ingestLimit.take(found.sha256.toString('hex')) : 0;
        if (wait > 0) {
          next(tooManyRequests(wait, 'API key'));
          return;
        }
        res.locals.surveys = found.surveys;
        // Names the key in what it writes (annotations), without revealing it: a digest prefix.
        res.locals.keyId = `key:${found.sha256.toString('hex').slice(0, 12)}`;
        next();
      }
    };
}

/** The configured key whose SHA-256 equals that of `secret`, compared in constant time. */
export function findKey(apiKeys: readonly ApiKey[], secret: string): ApiKey | undefined {
  const given = createHash('sha256').update(secret).digest();
  let found: ApiKey | undefined;
  for (const key of apiKeys) {
    if (sameSecret(key.sha256, given)) found = key;
  }
  return found;
}

/** 403 unless the authorized key may touch this survey. */
export function allowSurvey(res: Response, surveyId: string): void {
  const surveys = res.locals.surveys as ReadonlySet<string> | null | undefined;
  if (surveys && !surveys.has(surveyId)) {
    throw new HttpProblem(403, 'Forbidden', `This key is not allowed for survey ${surveyId}`);
  }
}
