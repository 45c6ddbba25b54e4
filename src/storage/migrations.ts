import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromPackageRoot } from '../package-root.js';
import type { ClickHouseClient } from '@clickhouse/client';

/**
 * Versioned ClickHouse migrations from schemas/clickhouse/NNN_name.sql, applied in order, each
 * once, recorded in `<database>.schema_migrations`. Statements are idempotent (IF NOT EXISTS), so
 * a crash half-way through a file is repaired by running it again. The database name is passed as
 * an Identifier query parameter, never pasted into the SQL.
 */

const MIGRATIONS_DIR = fromPackageRoot('schemas', 'clickhouse');

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n');
      return {
        version: Number(file.split('_')[0]),
        name: file.replace(/\.sql$/, ''),
        statements: sql
          .split(/;\s*(?:\n|$)/)
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      };
    });
}

/**
 * A plain view keeps query parameters in its body, as a parameterized view that asks for them at
 * every read, so the database is written into a view's statement, quoted as an identifier.
 */
function bound(statement: string, database: string): string {
  if (!/^CREATE\s+VIEW\b/i.test(statement)) return statement;
  return statement.replaceAll('{database:Identifier}', `\`${database.replaceAll('`', '``')}\``);
}

/** Applies the pending migrations; returns the names applied. */
export async function migrate(client: ClickHouseClient, database: string): Promise<string[]> {
  const params = { query_params: { database } };
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS {database:Identifier}', ...params });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS {database:Identifier}.schema_migrations
            (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
            ENGINE = ReplacingMergeTree ORDER BY version`,
    ...params,
  });
  const done = await client.query({
    query: 'SELECT version FROM {database:Identifier}.schema_migrations FINAL',
    format: 'JSONEachRow',
    ...params,
  });
  const applied = new Set(
    (await done.json<{ version: number | string }>()).map((r) => Number(r.version)),
  );
  const ran: string[] = [];
  for (const migration of loadMigrations()) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements) {
      await client.command({ query: bound(statement, database), ...params });
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    });
    ran.push(migration.name);
  }
  return ran;
}
