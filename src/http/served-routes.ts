import type express from 'express';

/** One method and path the HTTP server answers, in OpenAPI's path form (`/v1/cases/{caseId}`). */
export interface ServedRoute {
  /** Upper case; `*` for a mounted handler (static files) that takes every method. */
  readonly method: string;
  readonly path: string;
}

/** What express 5's router keeps of a layer (router/lib/layer.js); not in its type definitions. */
interface Layer {
  readonly rawPath?: unknown;
  readonly slash?: boolean;
  readonly route?: { readonly path: unknown; readonly methods: Record<string, boolean> };
  readonly handle: { readonly stack?: readonly Layer[] };
}

const openApiPath = (path: string) => path.replaceAll(/:(\w+)/g, '{$1}');

function walk(stack: readonly Layer[], prefix: string, out: ServedRoute[]): void {
  for (const layer of stack) {
    if (layer.route) {
      // A route on several paths at once is a guard in front of the operations (the limit on
      // failed authentications), not an operation of its own.
      if (typeof layer.route.path !== 'string') continue;
      for (const method of Object.keys(layer.route.methods)) {
        if (method !== '_all')
          out.push({ method: method.toUpperCase(), path: openApiPath(prefix + layer.route.path) });
      }
    } else if (typeof layer.rawPath === 'string') {
      const mount = layer.slash ? '' : layer.rawPath;
      if (layer.handle.stack) walk(layer.handle.stack, prefix + mount, out);
      else if (mount !== '') out.push({ method: '*', path: openApiPath(prefix + mount) });
    }
  }
}

/**
 * Every method and path `app` serves, read from its router: what the OpenAPI document must
 * describe (the contract test compares the two both ways). Middleware on every path is not listed.
 */
export function servedRoutes(app: express.Express): ServedRoute[] {
  const out: ServedRoute[] = [];
  walk((app.router as unknown as { stack: readonly Layer[] }).stack, '', out);
  return out;
}
