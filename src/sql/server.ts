import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Transform, Writable } from 'node:stream';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { BrotliCompress, Deflate, Gzip } from 'node:zlib';
import {
  createBrotliCompress,
  createBrotliDecompress,
  createDeflate,
  createGunzip,
  createGzip,
  createInflate,
} from 'node:zlib';
import { findKey } from '../http/auth.js';
import { NpsError } from '../errors.js';
import type { ApiKey } from '../config/config.js';
import type { SqlEngine, SqlResult } from './engine.js';
import { SqlError, fromEngine } from './errors.js';
import { contentType } from './formats.js';
import type { Admission } from './limits.js';
import { nativeCompression } from './native-compression.js';
import type { Limit } from './settings.js';
import { clientRequest } from './settings.js';

/**
 * ClickHouse's HTTP interface, read-only, over the embedded engine: the protocol the official
 * clients, the JDBC driver (and so DBeaver, Metabase, Superset, Tableau, Grafana) and curl speak.
 * Requests, credentials, settings and errors are taken and given the way ClickHouse's server does;
 * what a statement may do is engine.ts's and guard.ts's business.
 */

export interface SqlServerOptions {
  readonly engine: SqlEngine;
  readonly admission: Admission;
  readonly apiKeys: readonly ApiKey[];
  /** The product's database: the current database of every statement. */
  readonly database: string;
  readonly limits: Readonly<Record<Limit, number>>;
  /** 0 picks a free port. Listens on every interface, like the API. */
  readonly port: number;
  readonly log: (message: string) => void;
}

export interface SqlServerHandle {
  readonly url: string;
  close(): Promise<void>;
}

/** ClickHouse's own default for max_query_size. */
const MAX_QUERY_BYTES = 256 * 1024;
const DEFAULT_FORMAT = 'TabSeparated';
const DISPLAY_NAME = 'nps';

interface Credentials {
  readonly user: string;
  readonly password: string | undefined;
}

function credentials(req: IncomingMessage, url: URL): Credentials {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const headerKey = header('x-clickhouse-key');
  const headerUser = header('x-clickhouse-user');
  if (headerKey !== undefined || headerUser !== undefined) {
    return { user: headerUser ?? 'default', password: headerKey };
  }
  const authorization = header('authorization') ?? '';
  const basic = /^Basic\s+(\S+)$/i.exec(authorization);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0
      ? { user: decoded, password: undefined }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (bearer?.[1]) return { user: 'default', password: bearer[1] };
  return {
    user: url.searchParams.get('user') ?? 'default',
    password: url.searchParams.get('password') ?? undefined,
  };
}

function authorize(
  apiKeys: readonly ApiKey[],
  given: Credentials,
  onFound: (key: ApiKey) => void,
): ApiKey {
  if (given.password === undefined || given.password === '') {
    throw SqlError.of(
      'REQUIRED_PASSWORD',
      `${given.user}: an API key with the sql scope is required as the password`,
    );
  }
  const key = findKey(apiKeys, given.password);
  if (!key) {
    throw SqlError.of(
      'AUTHENTICATION_FAILED',
      `${given.user}: Authentication failed: the password is not a known API key`,
    );
  }
  onFound(key);
  if (!key.scopes.has('sql') && !key.scopes.has('admin')) {
    throw SqlError.of(
      'ACCESS_DENIED',
      `${given.user}: Not enough privileges: the key needs the sql scope`,
    );
  }
  if (key.surveys) {
    throw SqlError.of(
      'ACCESS_DENIED',
      `${given.user}: Not enough privileges: SQL needs a key that is not restricted to surveys`,
    );
  }
  return key;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let source: NodeJS.ReadableStream = req;
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') source = req.pipe(createGunzip());
  else if (encoding === 'deflate') source = req.pipe(createInflate());
  else if (encoding === 'br') source = req.pipe(createBrotliDecompress());
  else if (encoding !== '' && encoding !== 'identity') {
    throw SqlError.of('UNKNOWN_COMPRESSION_METHOD', `Unknown Content-Encoding ${encoding}`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_QUERY_BYTES) {
      throw SqlError.of(
        'QUERY_IS_TOO_LARGE',
        `Query is too large (more than ${MAX_QUERY_BYTES} bytes)`,
      );
    }
    parts.push(buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The HTTP encoding to answer with, when the client asked for one the way ClickHouse wants. */
function httpEncoding(req: IncomingMessage, url: URL): string | undefined {
  if (url.searchParams.get('enable_http_compression') !== '1') return undefined;
  const accepted = (req.headers['accept-encoding'] ?? '').toLowerCase();
  return ['gzip', 'deflate', 'br'].find((e) => accepted.includes(e));
}

function encoder(encoding: string): Gzip | Deflate | BrotliCompress {
  if (encoding === 'gzip') return createGzip();
  if (encoding === 'deflate') return createDeflate();
  return createBrotliCompress();
}

/** Text for one log line: control characters (a forged line break, say) become spaces. */
function oneLine(text: string, max: number): string {
  let out = '';
  for (const c of text.slice(0, max * 2)) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? ' ' : c;
  }
  return out.replace(/ {2,}/g, ' ').trim().slice(0, max);
}

export async function startSqlServer(options: SqlServerOptions): Promise<SqlServerHandle> {
  const { engine, admission, log } = options;
  const open = new Set<AbortController>();

  function sendError(res: ServerResponse, error: SqlError, queryId: string): void {
    if (res.headersSent) return;
    const headers: Record<string, string> = {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(error.clickhouseCode),
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Server-Display-Name': DISPLAY_NAME,
    };
    if (error.clickhouseCode === 194) {
      headers['WWW-Authenticate'] = 'Basic realm="ClickHouse server HTTP API", charset="UTF-8"';
    }
    res.writeHead(error.httpStatus, headers);
    res.end(error.wire(engine.version));
  }

  async function send(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    result: SqlResult,
    queryId: string,
  ): Promise<void> {
    const encoding = httpEncoding(req, url);
    const zip = encoding === undefined ? undefined : encoder(encoding);
    const chain: Transform[] = [];
    if (url.searchParams.get('compress') === '1') chain.push(nativeCompression());
    if (zip) chain.push(zip);
    res.writeHead(200, {
      'Content-Type': contentType(result.format),
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': result.format,
      'X-ClickHouse-Timezone': engine.timezone,
      'X-ClickHouse-Server-Display-Name': DISPLAY_NAME,
      'X-ClickHouse-Summary': JSON.stringify({
        read_rows: String(result.stats.rowsRead),
        read_bytes: '0',
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: String(Number.isNaN(result.stats.resultRows) ? 0 : result.stats.resultRows),
        result_bytes: String(result.stats.resultBytes),
      }),
      ...(encoding !== undefined && { 'Content-Encoding': encoding }),
    });
    for (const [i, stream] of chain.entries()) stream.pipe(chain[i + 1] ?? res);
    const head: Writable = chain[0] ?? res;
    // Waits for a slow reader, or for its connection to go (then the loop below ends).
    const write = async (bytes: Uint8Array) => {
      if (head.write(bytes) || res.destroyed) return;
      const done = new AbortController();
      const wait = (emitter: Writable, event: string) =>
        once(emitter, event, { signal: done.signal }).catch(() => undefined);
      await Promise.race([wait(head, 'drain'), wait(res, 'close')]);
      done.abort();
    };
    try {
      for await (const block of result.body) {
        if (res.destroyed) break;
        await write(block);
      }
      const ended = finished(res);
      head.end();
      await ended;
    } catch (cause) {
      // Headers are gone: ClickHouse writes the exception into the body. The connection is then
      // cut, so no client can take the rows before it for a complete result.
      const error = fromEngine(cause);
      await write(Buffer.from(`\n${error.wire(engine.version)}`)).catch(() => undefined);
      await new Promise<void>((resolve) => {
        if (zip) zip.flush(resolve);
        else setImmediate(resolve);
      });
      res.destroy();
      throw error;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://sql.invalid');
    const queryId = url.searchParams.get('query_id') ?? randomUUID();
    if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    if (url.pathname !== '/') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end(`There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\n`);
      return;
    }
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', onClose);
    open.add(controller);
    const given = credentials(req, url);
    let keyId = '-';
    let keyHash = '';
    let result: SqlResult | undefined;
    let failure: SqlError | undefined;
    let text = '';
    try {
      const body = req.method === 'POST' ? await readBody(req) : '';
      const param = url.searchParams.get('query');
      text = param !== null && body !== '' ? `${param}\n${body}` : (param ?? body);
      if (text.trim() === '') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' }).end('Ok.\n');
        return;
      }
      if (Buffer.byteLength(text) > MAX_QUERY_BYTES) {
        throw SqlError.of(
          'QUERY_IS_TOO_LARGE',
          `Query is too large (more than ${MAX_QUERY_BYTES} bytes)`,
        );
      }
      authorize(options.apiKeys, given, (key) => {
        keyHash = key.sha256.toString('hex');
        // The log names a key by the start of its SHA-256, as `sha256:` keys are configured.
        keyId = keyHash.slice(0, 8);
      });
      if (url.searchParams.get('decompress') === '1') {
        throw SqlError.of(
          'NOT_IMPLEMENTED',
          'Compressed request bodies (decompress=1) are not supported',
        );
      }
      const database =
        url.searchParams.get('database') ?? req.headers['x-clickhouse-database']?.toString();
      // Clients that were told no database send `default`; both mean the product's database.
      if (
        database !== undefined &&
        database !== '' &&
        database !== options.database &&
        database !== 'default'
      ) {
        throw SqlError.of(
          'ACCESS_DENIED',
          `Database ${database} is not available here: this endpoint reads ${options.database}`,
        );
      }
      const formatName =
        url.searchParams.get('default_format') ??
        req.headers['x-clickhouse-format']?.toString() ??
        DEFAULT_FORMAT;
      const defaultFormat = engine.outputFormat(formatName);
      if (defaultFormat === undefined) {
        throw SqlError.of('UNKNOWN_FORMAT', `Unknown output format ${formatName}`);
      }
      const { settings, params } = clientRequest(url.searchParams, options.limits);
      const leave = await admission.enter(keyHash, controller.signal);
      try {
        result = await engine.run({
          query: text,
          defaultFormat,
          settings,
          params,
          signal: controller.signal,
        });
        await send(req, res, url, result, queryId);
      } finally {
        leave();
      }
    } catch (error) {
      failure = fromEngine(error);
      sendError(res, failure, queryId);
    } finally {
      result?.close();
      open.delete(controller);
      res.off('close', onClose);
      const stats = result?.stats;
      log(
        `sql ${failure ? `error ${failure.clickhouseCode} ${failure.clickhouseName}` : 'ok'} ` +
          `user=${oneLine(given.user, 64) || '-'} key=${keyId} id=${oneLine(queryId, 64)} ` +
          `ms=${Date.now() - started} rows_read=${stats?.rowsRead ?? 0} ` +
          `result_rows=${stats && !Number.isNaN(stats.resultRows) ? stats.resultRows : '-'} ` +
          `result_bytes=${stats?.resultBytes ?? 0} kind=${result?.kind ?? '-'} ` +
          `format=${result?.format ?? '-'} query="${oneLine(text, 300).replaceAll('"', "'")}"`,
      );
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.destroy();
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    const failed = (cause: NodeJS.ErrnoException) => {
      reject(
        cause.code === 'EADDRINUSE'
          ? new NpsError('PORT_TAKEN', `NPS_SQL_PORT ${options.port} is taken by another process`, {
              cause,
            })
          : cause,
      );
    };
    server.once('error', failed);
    server.listen(options.port, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise((resolve) => server.close(resolve));
        // Waiting and running statements are cancelled and their connections cut: a client sees
        // an error, never a result cut short that looks complete.
        for (const controller of open) controller.abort();
        const cancelled = engine.close();
        // A moment for cancelled statements to answer with their error; then connections still
        // open (a client not reading its result, say) are cut.
        await Promise.race([
          cancelled,
          new Promise((resolve) => setTimeout(resolve, 1000).unref()),
        ]);
        server.closeAllConnections();
        await cancelled;
        await closed;
      })()),
  };
}
