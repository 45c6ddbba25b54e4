import express from 'express';
import type { Router } from 'express';
import { HttpProblem, sendProblem } from '../http/problem.js';
import type { Metrics } from '../metrics.js';
import { openApiDocument } from './openapi.js';

export interface OpsDeps {
  /** Names the dependencies that do not answer; empty when ready. */
  readonly readiness: () => Promise<string[]>;
  readonly metrics: Metrics;
  /** Base URL named in the OpenAPI document. */
  readonly publicBaseUrl: string;
}

/** For operators and clients: health, readiness, the API document and Prometheus metrics. */
export function opsRouter(deps: OpsDeps): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const down = await deps.readiness();
    if (down.length === 0) res.json({ status: 'ready' });
    else {
      res.setHeader('Retry-After', '5');
      sendProblem(
        res,
        new HttpProblem(503, 'Not ready', `unreachable: ${down.join(', ')}`, { unreachable: down }),
        '/readyz',
      );
    }
  });

  const openApi = JSON.stringify(openApiDocument(deps.publicBaseUrl));
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
