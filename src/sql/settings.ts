import { SqlError } from './errors.js';

/**
 * What a client may send as URL parameters besides the query, and how each is treated.
 * ClickHouse clients send settings as `name=value` parameters; this endpoint runs every statement
 * with `readonly = 1`, so it applies a client's settings itself, before that lock, and only the
 * ones below.
 */

/** Parameters of the HTTP protocol itself, or settings that only mean something to a server's HTTP layer: accepted, no effect. */
const PROTOCOL = new Set([
  'query',
  'database',
  'default_format',
  'user',
  'password',
  'quota_key',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_native_compression_disable_checksumming_on_decompress',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_wait_end_of_query',
  'http_write_exception_in_output_format',
  'http_response_buffer_size',
  'cancel_http_readonly_queries_on_client_close',
  'add_http_cors_header',
  'client_protocol_version',
  'role',
  // The statement runs read-only whatever a client asks for; drivers send these for reads too.
  'readonly',
  'log_comment',
  'log_queries',
  'async_insert',
  'wait_for_async_insert',
]);

/** Settings a client may set to any value: they shape the output, not what is read. */
const OUTPUT = [
  /^output_format_(?!schema$)/,
  /^format_(csv|tsv|custom)_/,
  /^date_time_output_format$/,
  /^session_timezone$/,
  /^extremes$/,
  /^join_use_nulls$/,
  /^max_block_size$/,
  /^limit$/,
  /^offset$/,
  /^(input_format_|date_time_input_format$|insert_)/, // for writes only; harmless on reads
];

/** Limits a client may lower but not raise past the endpoint's. */
export const LIMITS = [
  'max_execution_time',
  'max_result_rows',
  'max_result_bytes',
  'max_memory_usage',
  'max_threads',
  'max_rows_to_read',
  'max_bytes_to_read',
] as const;
export type Limit = (typeof LIMITS)[number];

const MODES: Record<string, readonly string[]> = {
  result_overflow_mode: ['throw', 'break'],
  timeout_overflow_mode: ['throw', 'break'],
  read_overflow_mode: ['throw', 'break'],
};

export interface ClientRequest {
  /** Settings to apply, by name, as text. */
  readonly settings: Map<string, string>;
  /** Query parameters (`param_<name>`), raw text as ClickHouse's HTTP interface takes them. */
  readonly params: Map<string, string>;
}

const readonlyError = (name: string) =>
  SqlError.of(
    'READONLY',
    `Cannot modify '${name}' setting in readonly mode: this endpoint accepts output format ` +
      `settings and lower limits only`,
  );

/**
 * Sorts a request's URL parameters into settings to apply and query parameters, refusing what
 * the endpoint does not let a client change. `limits` are the endpoint's own (0 = none).
 */
export function clientRequest(
  url: URLSearchParams,
  limits: Readonly<Record<Limit, number>>,
): ClientRequest {
  const settings = new Map<string, string>();
  const params = new Map<string, string>();
  for (const [key, value] of url) {
    if (key.startsWith('param_')) {
      const name = key.slice('param_'.length);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw SqlError.of(
          'BAD_ARGUMENTS',
          `Query parameter name ${JSON.stringify(name)} is not an identifier`,
        );
      }
      params.set(name, value);
      continue;
    }
    if (PROTOCOL.has(key)) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw SqlError.of(
        'BAD_ARGUMENTS',
        `Setting name ${JSON.stringify(key)} is not an identifier`,
      );
    }
    if ((LIMITS as readonly string[]).includes(key)) {
      const n = Number(value);
      const ceiling = limits[key as Limit];
      if (!Number.isFinite(n) || n < 0) {
        throw SqlError.of(
          'BAD_ARGUMENTS',
          `Setting ${key} takes a number, got ${JSON.stringify(value)}`,
        );
      }
      // 0 means "no limit" in ClickHouse, which is above any ceiling the endpoint has.
      if (ceiling > 0 && (n === 0 || n > ceiling)) {
        throw SqlError.of(
          'READONLY',
          `Cannot raise '${key}' above ${ceiling}: that is this endpoint's limit`,
        );
      }
      settings.set(key, String(n));
      continue;
    }
    const modes = MODES[key];
    if (modes) {
      if (!modes.includes(value)) throw readonlyError(key);
      settings.set(key, value);
      continue;
    }
    if (!OUTPUT.some((pattern) => pattern.test(key))) throw readonlyError(key);
    settings.set(key, value);
  }
  return { settings, params };
}

/**
 * A ClickHouse string literal holding exactly `value`: backslash and quote escaped, control
 * characters as escapes, so the engine's parser reads back the same text.
 */
export function sqlString(value: string): string {
  let out = "'";
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (c === '\\') out += '\\\\';
    else if (c === "'") out += "\\'";
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code === 0) out += '\\0';
    else if (code < 0x20) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return `${out}'`;
}

/**
 * `value` as a query parameter's raw text: ClickHouse reads parameter values in its escaped text
 * form (as clients send them over HTTP), where a backslash, tab or line break must be escaped.
 */
export function escapedParam(value: string): string {
  const escapes: Record<string, string> = {
    '\\': '\\\\',
    '\t': '\\t',
    '\n': '\\n',
    '\r': '\\r',
    [String.fromCharCode(0)]: '\\0',
  };
  let out = '';
  for (const c of value) out += escapes[c] ?? c;
  return out;
}
