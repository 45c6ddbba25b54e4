import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import { HttpProblem } from './problem.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Bearer-key check in constant time over every configured key. */
export function authorizer(apiKeys: ReadonlyMap<string, ReadonlySet<Scope>>) {
  const keys = [...apiKeys].map(([key, scopes]) => ({ hash: digest(key), scopes }));
  return (scope: Scope): RequestHandler =>
    (req, _res, next) => {
      const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
      if (!match?.[1]) {
        next(
          new HttpProblem(
            401,
            'Unauthorized',
            'Send an API key as Authorization: Bearer <key>',
            {},
            {
              'WWW-Authenticate': 'Bearer',
            },
          ),
        );
        return;
      }
      const given = digest(match[1]);
      let scopes: ReadonlySet<Scope> | undefined;
      for (const key of keys) {
        if (timingSafeEqual(key.hash, given)) scopes = key.scopes;
      }
      if (!scopes)
        next(
          new HttpProblem(
            401,
            'Unauthorized',
            'Unknown API key',
            {},
            { 'WWW-Authenticate': 'Bearer' },
          ),
        );
      else if (!scopes.has(scope))
        next(new HttpProblem(403, 'Forbidden', `This key lacks the ${scope} scope`));
      else next();
    };
}
