import type { ApiKey, Config } from '../config/config.js';
import { SqlEngine } from './engine.js';
import { Admission } from './limits.js';
import { startSqlServer } from './server.js';
import type { SqlServerHandle } from './server.js';
import type { Limit } from './settings.js';

/** The endpoint's ceilings from configuration, in ClickHouse's units. */
export function sqlLimits(config: Config): Record<Limit, number> {
  return {
    max_execution_time: config.sqlMaxExecutionTime,
    max_result_rows: config.sqlMaxResultRows,
    max_result_bytes: config.sqlMaxResultBytes,
    max_memory_usage: config.sqlMaxMemoryUsage,
    max_threads: config.sqlMaxThreads,
    max_rows_to_read: 0,
    max_bytes_to_read: 0,
  };
}

/**
 * Starts the read-only SQL endpoint on the embedded engine whose data folder this process has
 * already opened (`path`).
 */
export async function startSqlEndpoint(options: {
  readonly config: Config;
  /** The keys in force: NPS_API_KEYS, or on a first run the local admin key. */
  readonly apiKeys: readonly ApiKey[];
  readonly path: string;
  readonly port: number;
  readonly log: (message: string) => void;
}): Promise<SqlServerHandle> {
  const { config } = options;
  const limits = sqlLimits(config);
  const engine = await SqlEngine.open({
    path: options.path,
    database: config.clickhouseDatabase,
    limits,
  });
  return startSqlServer({
    engine,
    admission: new Admission(config.sqlMaxQueriesPerKey, config.sqlMaxRunning),
    apiKeys: options.apiKeys,
    database: config.clickhouseDatabase,
    limits,
    port: options.port,
    log: options.log,
  });
}
