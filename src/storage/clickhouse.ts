import { mkdirSync } from 'node:fs';
import { createClient } from '@clickhouse/client';
import type { ClickHouseClient, ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { ClickHouseTarget } from '../config/endpoints.js';
import { NpsError } from '../errors.js';

/**
 * Settings both targets get, so results have one shape: 64-bit integers as JSON strings (the HTTP
 * server's default, not chdb's), timestamps parsed from any ISO-8601 form.
 */
const SETTINGS = {
  date_time_input_format: 'best_effort',
  output_format_json_quote_64bit_integers: 1,
} as const;

type EmbeddedConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;

/**
 * One ClickHouse client type for both targets: a real server over HTTP, or the embedded engine
 * (chdb) plugged in as the client's connection. Code above this module cannot tell them apart.
 */
export function createClickHouse(target: ClickHouseTarget): ClickHouseClient {
  if (target.kind === 'server') {
    return createClient({
      url: target.url,
      username: target.user,
      password: target.password,
      clickhouse_settings: SETTINGS,
    });
  }
  mkdirSync(target.path, { recursive: true });
  let connection: EmbeddedConnection;
  try {
    // chdb types its connection against @clickhouse/client-common, which the client now bundles
    // under its own name: the shapes match at run time, only the declarations are two copies.
    connection = createChdbConnection({ path: target.path }) as unknown as EmbeddedConnection;
  } catch (cause) {
    // chdb allows one data folder per process and one process per folder.
    throw new NpsError(
      'DATA_FOLDER_LOCKED',
      `Cannot open the embedded ClickHouse data folder ${target.path}: another process owns it, ` +
        'or this process already opened a different folder. Run the roles that use ClickHouse in ' +
        'one process, give each process its own CLICKHOUSE_PATH, or set CLICKHOUSE_URL to a server.',
      { cause },
    );
  }
  return createClient({ connection, clickhouse_settings: SETTINGS });
}

/** Loads the embedded engine in memory and returns its version, without touching a data folder. */
export async function embeddedClickHouseVersion(): Promise<string> {
  const { query } = await import('chdb');
  return query('SELECT version()', 'CSV').trim().replaceAll('"', '');
}

/** Rows of a query whose `{database:Identifier}` is `database`, with its other parameters. */
export async function queryRows<T = Record<string, unknown>>(
  client: ClickHouseClient,
  database: string,
  query: string,
  params: object,
): Promise<T[]> {
  const result = await client.query({
    query,
    format: 'JSONEachRow',
    query_params: { database, ...params },
  });
  return result.json<T>();
}
