import { Readable } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { LOCAL_PORTS } from '../config/config.js';
import type { Config } from '../config/config.js';
import { NpsError } from '../errors.js';
import { escapedParam } from './settings.js';

/**
 * `nps sql` and `nps export`: clients of the running service's SQL endpoint, like any other.
 * They speak ClickHouse's HTTP interface with the first clear-text key of NPS_API_KEYS that has
 * the sql (or admin) scope.
 */

export const SQL_USAGE = `  nps sql "SELECT ..." [--format csv|json|parquet] [--param name=value]... [--url URL]
  nps export --table responses|responses_hourly|responses_daily [--from T] [--to T] [--format csv|parquet] [--url URL]`;

const FORMATS: Record<string, string> = {
  csv: 'CSVWithNames',
  json: 'JSONEachRow',
  parquet: 'Parquet',
};

/**
 * What `nps export` reads, table by table: in time order, rollups merged into counts. Table and
 * column names are fixed here; the time range arrives as query parameters.
 */
const EXPORTS: Record<string, { time: string; query: string }> = {
  responses: {
    time: 'responded_at',
    query: `SELECT * FROM responses FINAL
            WHERE responded_at >= {from:DateTime64(3, 'UTC')} AND responded_at < {to:DateTime64(3, 'UTC')}
            ORDER BY responded_at, survey_id, response_id`,
  },
  responses_hourly: {
    time: 'hour',
    // The view: the rollup's counts with erasures subtracted.
    query: `SELECT hour, survey_id, channel, promoters, passives, detractors
            FROM history_hourly
            WHERE hour >= {from:DateTime64(3, 'UTC')} AND hour < {to:DateTime64(3, 'UTC')}
            ORDER BY hour, survey_id, channel`,
  },
  responses_daily: {
    time: 'day',
    query: `SELECT day, survey_id, channel, promoters, passives, detractors
            FROM history_daily
            WHERE day >= toDate({from:DateTime64(3, 'UTC')}) AND day < {to:DateTime64(3, 'UTC')}
            ORDER BY day, survey_id, channel`,
  },
};

/** `2026-01-01` or `2026-01-01T10:00:00Z` as ClickHouse's `YYYY-MM-DD hh:mm:ss.sss`, UTC. */
function instant(option: string, raw: string | undefined, fallback: string): string {
  if (raw === undefined) return fallback;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms)) {
    throw new NpsError(
      'CONFIG_INVALID',
      `${option} takes an ISO-8601 date or date-time, got ${raw}`,
    );
  }
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Sends one statement and streams the answer into `out`; a ClickHouse error becomes an NpsError. */
export async function runStatement(options: {
  readonly url: string;
  readonly key: string;
  readonly query: string;
  readonly format: string;
  readonly params: ReadonlyMap<string, string>;
  readonly out: Writable;
}): Promise<void> {
  const url = new URL(options.url);
  url.searchParams.set('default_format', options.format);
  for (const [name, value] of options.params)
    url.searchParams.set(`param_${name}`, escapedParam(value));
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'X-ClickHouse-User': 'nps-cli', 'X-ClickHouse-Key': options.key },
      body: options.query,
    });
  } catch (cause) {
    throw new NpsError(
      'SERVICE_UNAVAILABLE',
      `No SQL endpoint answers at ${options.url}: start the service with NPS_SQL_PORT set, or pass --url`,
      { cause, retriable: true },
    );
  }
  if (!response.ok || !response.body) {
    throw new NpsError('SQL_ERROR', (await response.text()).trim());
  }
  try {
    await pipeline(Readable.fromWeb(response.body), options.out, {
      end: false,
    });
  } catch (cause) {
    // An error after the first rows cuts the connection (see server.ts), its text written last.
    throw new NpsError(
      'SQL_ERROR',
      'The result was cut short by an error; the output is incomplete',
      {
        cause,
      },
    );
  }
}

/** Runs `nps sql` or `nps export` from its command-line arguments. */
export async function sqlCommand(
  argv: readonly string[],
  config: Config,
  out: Writable,
): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'csv' },
      param: { type: 'string', multiple: true, default: [] },
      table: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const key = config.apiKeys.find(
    (k) => (k.scopes.has('sql') || k.scopes.has('admin')) && !k.surveys && k.plain !== undefined,
  )?.plain;
  if (key === undefined) {
    throw new NpsError('CONFIG_INVALID', 'NPS_API_KEYS has no clear-text key with the sql scope');
  }
  const format = FORMATS[values.format];
  if (format === undefined) {
    throw new NpsError('CONFIG_INVALID', `--format takes ${Object.keys(FORMATS).join(', ')}`);
  }
  const url = values.url ?? `http://127.0.0.1:${config.sqlPort ?? LOCAL_PORTS.sqlEndpoint}/`;
  const params = new Map<string, string>();
  if (positionals[0] === 'export') {
    const spec = EXPORTS[values.table ?? ''];
    if (!spec) {
      throw new NpsError('CONFIG_INVALID', `--table takes ${Object.keys(EXPORTS).join(', ')}`);
    }
    params.set('from', instant('--from', values.from, '1970-01-01 00:00:00.000'));
    params.set('to', instant('--to', values.to, '2299-12-31 23:59:59.999'));
    await runStatement({ url, key, query: spec.query, format, params, out });
    return;
  }
  const query = positionals[1];
  if (query === undefined || positionals.length > 2) {
    throw new NpsError('CONFIG_INVALID', 'nps sql takes one statement, in quotes');
  }
  for (const entry of values.param) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new NpsError('CONFIG_INVALID', `--param takes name=value, got ${entry}`);
    params.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  await runStatement({ url, key, query, format, params, out });
}
