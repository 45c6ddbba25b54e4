import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromPackageRoot } from '../package-root.js';
import express, { Router } from 'express';
import type { Request, Response } from 'express';
import type { ApiKey } from '../config/config.js';
import { findKey } from '../http/auth.js';
import { formBody, jsonBody } from '../http/body.js';
import { HttpProblem } from '../http/problem.js';
import { sessionCookie } from './session.js';
import type { Sessions } from './session.js';

/** Where `npm ci` (the prepare script, src/dashboard/build.ts) puts the built page. */
export const BUILT_DASHBOARD = fromPackageRoot('dist', 'web');

/**
 * The page's own policy, stricter than helmet's default: nothing from another origin, no inline
 * script or style, no upgrade-insecure-requests (it would break a plain-http LAN address).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface DashboardDeps {
  readonly sessions: Sessions;
  /** The keys this process accepts (NPS_API_KEYS or the local admin key). */
  readonly apiKeys: readonly ApiKey[];
  /** Its origin is accepted on sign-in besides the one the request was addressed to. */
  readonly publicBaseUrl: string;
  /** @default BUILT_DASHBOARD */
  readonly assetsDir?: string;
  /** Segment keys the page offers to slice by (NPS_SEGMENT_KEYS). @default [] */
  readonly segmentKeys?: readonly string[];
}

/**
 * The dashboard, for the api role: the built page at `/`, its assets under `/assets/` (hashed
 * names, cached for a year), and `/session` to sign in with an API key (a signed HttpOnly cookie,
 * see session.ts), look at the session and sign out.
 */
export function dashboardRouter(deps: DashboardDeps): Router {
  const dir = deps.assetsDir ?? BUILT_DASHBOARD;
  const publicOrigin = new URL(deps.publicBaseUrl).origin;
  // What the page needs of the configuration to offer segment slices; nothing when none is set.
  const segments =
    deps.segmentKeys && deps.segmentKeys.length > 0 ? { segmentKeys: [...deps.segmentKeys] } : {};
  const router = Router();

  router.get('/', async (_req, res) => {
    let html: Buffer;
    try {
      html = await readFile(join(dir, 'index.html'));
    } catch {
      throw new HttpProblem(
        503,
        'Dashboard not built',
        'The dashboard has not been built here: run npm run build (npm ci and npm start do it)',
      );
    }
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(html);
  });

  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      index: false,
      immutable: true,
      maxAge: '365d',
      redirect: false,
    }),
  );

  router.get('/session', (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const session = deps.sessions.keyOf(req);
    res.json(
      session?.key.scopes.has('read')
        ? {
            signedIn: true,
            surveys: session.key.surveys && [...session.key.surveys],
            expiresAt: new Date(session.expiresAt).toISOString(),
            ...segments,
          }
        : { signedIn: false },
    );
  });

  // Cross-site requests cannot carry the SameSite=Strict cookie, but a sign-in needs none: the
  // Origin check keeps another site from signing a browser in with a key of its choosing.
  const sameOrigin = (req: Request) => {
    const origin = req.get('origin');
    return (
      origin !== undefined &&
      (origin === publicOrigin || origin === `${req.protocol}://${req.host}`)
    );
  };
  const refuseCrossSite = (req: Request) => {
    if (!sameOrigin(req)) {
      throw new HttpProblem(403, 'Forbidden', 'Sign in from the dashboard page of this site');
    }
  };

  router.post('/session', jsonBody('4kb'), formBody('4kb'), (req: Request, res: Response) => {
    refuseCrossSite(req);
    const form = typeof req.is('application/x-www-form-urlencoded') === 'string';
    const body = req.body as { apiKey?: unknown } | undefined;
    const given = typeof body?.apiKey === 'string' ? body.apiKey.trim() : '';
    if (given === '') throw new HttpProblem(400, 'Invalid request', 'apiKey is required');
    const key = findKey(deps.apiKeys, given);
    if (!key) throw new HttpProblem(401, 'Unauthorized', 'Unknown API key');
    if (!key.scopes.has('read'))
      throw new HttpProblem(403, 'Forbidden', 'This key lacks the read scope');
    const { value, expiresAt } = deps.sessions.issue(key);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader(
      'Set-Cookie',
      sessionCookie(value, { secure: req.secure, maxAgeSeconds: (expiresAt - Date.now()) / 1000 }),
    );
    if (form) {
      res.redirect(303, '/');
      return;
    }
    res.json({
      signedIn: true,
      surveys: key.surveys && [...key.surveys],
      expiresAt: new Date(expiresAt).toISOString(),
      ...segments,
    });
  });

  router.delete('/session', (req, res) => {
    refuseCrossSite(req);
    res.setHeader('Set-Cookie', sessionCookie('', { secure: req.secure, maxAgeSeconds: 0 }));
    res.status(204).end();
  });

  return router;
}
