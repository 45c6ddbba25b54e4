import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/config.js';
import type { ClickHouseTarget } from '../../src/config/endpoints.js';
import { start } from '../../src/start.js';
import type { Running } from '../../src/start.js';
import { endpoints, kafka } from './services.js';

export type SqlService = Running & { config: Config; sqlUrl: string };

/**
 * One running service (all roles, the SQL endpoint on a free port) on the worker's own embedded
 * ClickHouse folder: the endpoint exists for the embedded engine only, so it is tested on one
 * whatever ClickHouse the rest of the suite uses. Returns it and the teardown for `beforeAll`.
 */
export async function startSqlService(
  env: Record<string, string>,
  log: (message: string) => void = () => undefined,
): Promise<{ service: SqlService; stop: () => Promise<void> }> {
  const config = loadConfig({ ...process.env, ...env });
  const clickhouse: ClickHouseTarget = {
    kind: 'embedded',
    path: join(inject('clickhouseRoot'), `worker-${process.pid}`),
  };
  const running = await start({
    config,
    endpoints: { ...endpoints(), clickhouse },
    roles: ['ingest', 'process', 'api'],
    port: 0,
    sqlPort: 0,
    log,
  });
  if (running.sqlUrl === undefined) throw new Error('the SQL endpoint did not start');
  const stop = async () => {
    await running.close();
    const admin = kafka().admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [config.topic, config.deadLetterTopic] })
      .catch(() => undefined);
    await admin.disconnect();
  };
  return { service: { ...running, config, sqlUrl: running.sqlUrl }, stop };
}
