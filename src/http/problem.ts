import type { RequestHandler, Response } from 'express';
import type { FieldProblem } from '../domain/response.js';

/** An HTTP error that leaves as RFC 9457 application/problem+json. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail ?? title);
  }
}

/** 400 naming each field once (its first problem: a schema's and a route's rule can both fail). */
export function invalid(given: readonly FieldProblem[]): HttpProblem {
  const problems = given.filter((p, i) => given.findIndex((q) => q.field === p.field) === i);
  const detail = problems.map((p) => `${p.field} ${p.message}`).join('; ');
  return new HttpProblem(400, 'Invalid request', detail, { errors: problems });
}

export function sendProblem(res: Response, problem: HttpProblem, instance: string): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: 'about:blank',
        title: problem.title,
        status: problem.status,
        ...(problem.detail !== undefined && { detail: problem.detail }),
        instance,
        ...problem.extra,
      }),
    );
}

/** 415 unless the body is declared as JSON. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(new HttpProblem(415, 'Unsupported Media Type', 'Send the body as application/json'));
  } else next();
};
