import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/config.js';
import type { ResolvedEndpoints } from '../../src/config/endpoints.js';
import { up } from '../../deploy/local/stack.js';
import { composeUp } from './compose.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: ResolvedEndpoints;
    /** Parent of the embedded ClickHouse folders: each test worker process takes its own below it. */
    clickhouseRoot: string;
  }
}

/**
 * Resolves the services once for the whole run, in the one order of src/config/endpoints.ts, and
 * stops afterwards only what it started. A service that cannot be reached fails the run here.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const began = Date.now();
  const stack = await up(loadConfig(), composeUp);
  const took = ((Date.now() - began) / 1000).toFixed(1);
  const how = Object.entries(stack.endpoints.sources)
    .map(([s, from]) => `${s}: ${from}`)
    .join(', ');
  console.log(
    `[services] ready in ${took}s (${how}); started here: ${stack.started.join(', ') || 'none'}`,
  );

  const clickhouseRoot = mkdtempSync(join(tmpdir(), 'nps-test-clickhouse-'));
  project.provide('endpoints', stack.endpoints);
  project.provide('clickhouseRoot', clickhouseRoot);

  return async () => {
    rmSync(clickhouseRoot, { recursive: true, force: true });
    await stack.stop();
  };
}
