import { randomUUID } from 'node:crypto';
import { Session } from 'chdb';
import type { ChdbQueryStream } from 'chdb';
import { parseAstDump } from './ast.js';
import { SqlError, fromEngine } from './errors.js';
import { delivery, headerLength } from './formats.js';
import { SYSTEM_TABLES, checkStatement } from './guard.js';
import type { GuardPolicy } from './guard.js';
import type { Limit } from './settings.js';
import { escapedParam, sqlString } from './settings.js';

/**
 * Runs client statements on the embedded engine the service already owns. chdb binds one data
 * folder per process but lets any number of connections share it, so each statement gets a fresh
 * connection of its own on the same folder: its settings, parameters and read-only lock die with
 * it, and it streams without waiting for anyone else's stream. Opening one takes a fraction of a
 * millisecond.
 *
 * A statement runs in four steps on its connection: settings, parameters and `readonly = 1`;
 * a check that the text is one statement (formatQuery); the guard on its EXPLAIN AST; the
 * statement itself. Values never enter SQL text except as escaped string literals.
 */

export interface SqlEngineOptions {
  /** The embedded engine's data folder, already opened by this process. */
  readonly path: string;
  /** The product's database. */
  readonly database: string;
  /** The endpoint's ceilings, in ClickHouse's units (seconds, rows, bytes); 0 = none. */
  readonly limits: Readonly<Record<Limit, number>>;
}

export interface SqlRequest {
  readonly query: string;
  /** Output format when the statement has no FORMAT clause. */
  readonly defaultFormat: string;
  readonly settings: ReadonlyMap<string, string>;
  readonly params: ReadonlyMap<string, string>;
  /** Aborted when the client goes away: the statement is cancelled in the engine. */
  readonly signal: AbortSignal;
}

export interface SqlStats {
  /** Rows the engine read: exact for whole results, as of the last block for streamed ones. */
  rowsRead: number;
  resultRows: number;
  resultBytes: number;
}

export interface SqlResult {
  readonly kind: string;
  readonly format: string;
  /** The result, a block at a time; the first block is already computed. */
  readonly body: AsyncGenerator<Uint8Array, void, undefined>;
  readonly stats: SqlStats;
  /** Lets go of the statement's connection, whether the body was read to the end or not. */
  close(): void;
}

// Engine threads of endpoint statements run at a lower OS priority (nice 10) than ingest and
// the processor; an unprivileged process may lower its threads' priority.
const NICE = 10;
const PROGRESS_EVERY_MS = 500;

export class SqlEngine {
  readonly #options: SqlEngineOptions;
  readonly #policy: Omit<GuardPolicy, 'databases'>;
  readonly #running = new Set<{ abort: () => void; done: Promise<unknown> }>();
  readonly version: string;
  readonly timezone: string;
  #closed = false;

  private constructor(
    options: SqlEngineOptions,
    policy: Omit<GuardPolicy, 'databases'>,
    version: string,
    timezone: string,
  ) {
    this.#options = options;
    this.#policy = policy;
    this.version = version;
    this.timezone = timezone;
  }

  /** Reads what the guard needs to know about this engine build: its formats and functions. */
  static async open(options: SqlEngineOptions): Promise<SqlEngine> {
    const rows = await internal(
      options.path,
      `SELECT
         (SELECT groupArray(name) FROM system.formats WHERE is_output) AS formats,
         (SELECT groupArray(lower(name)) FROM system.table_functions
           WHERE lower(name) NOT IN (SELECT lower(name) FROM system.functions)) AS table_functions,
         version() AS version, timezone() AS timezone`,
    );
    const row = rows[0] as {
      formats: string[];
      table_functions: string[];
      version: string;
      timezone: string;
    };
    return new SqlEngine(
      options,
      {
        database: options.database,
        outputFormats: new Map(row.formats.map((f) => [f.toLowerCase(), f])),
        tableFunctions: new Set(row.table_functions),
      },
      row.version,
      row.timezone,
    );
  }

  /** Canonical spelling of an output format name, or undefined if the engine has none such. */
  outputFormat(name: string): string | undefined {
    return this.#policy.outputFormats.get(name.toLowerCase());
  }

  async run(request: SqlRequest): Promise<SqlResult> {
    if (this.#closed) throw SqlError.of('QUERY_WAS_CANCELLED', 'The server is shutting down');
    const tag = `nps-sql-${randomUUID()}`;
    const session = new Session(this.#options.path);
    let settle: () => void = () => undefined;
    const entry: { abort: () => void; done: Promise<void> } = {
      abort: () => undefined,
      done: new Promise<void>((resolve) => (settle = resolve)),
    };
    this.#running.add(entry);
    let released = false;
    // Closing the connection also cancels a stream still open on it.
    const release = () => {
      if (released) return;
      released = true;
      session.close();
      this.#running.delete(entry);
      settle();
    };
    try {
      const result = await this.#run(session, tag, request, entry);
      const body = result.body;
      return {
        ...result,
        body: (async function* () {
          try {
            yield* body;
          } finally {
            release();
          }
        })(),
        close: release,
      };
    } catch (error) {
      release();
      throw fromEngine(error);
    }
  }

  async #run(
    session: Session,
    tag: string,
    request: SqlRequest,
    entry: { abort: () => void },
  ): Promise<Omit<SqlResult, 'close'>> {
    const databases = new Set(
      (await query(session, 'SELECT name FROM system.databases', 'JSONEachRow'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { name: string }).name),
    );
    await query(session, this.#setup(tag, request), 'TSV');

    // One statement only: chdb runs every statement of a multi-statement text, so the text is
    // checked as a value (never as SQL) before any of it is run, even by EXPLAIN.
    await query(session, 'SELECT formatQuery({_nps_query:String})', 'TSV').catch(
      (error: unknown) => {
        const e = fromEngine(error);
        throw new SqlError(
          e.clickhouseCode,
          e.clickhouseName,
          e.message.replace(/: In scope SELECT formatQuery\([\s\S]*$/, ''),
        );
      },
    );
    const verdict = checkStatement(
      parseAstDump(await query(session, `EXPLAIN AST ${request.query}`, 'TSVRaw')),
      { ...this.#policy, databases },
    );
    const format = verdict.format ?? request.defaultFormat;
    const stats: SqlStats = { rowsRead: 0, resultRows: 0, resultBytes: 0 };
    if (request.signal.aborted) throw SqlError.of('QUERY_WAS_CANCELLED', 'Client went away');

    // The engine streams SELECTs only; SHOW, DESCRIBE, EXISTS and EXPLAIN answers are small.
    if (delivery(format) === 'document' || verdict.kind !== 'SelectWithUnionQuery') {
      const onAbort = () => {
        this.#kill(tag);
      };
      entry.abort = onAbort;
      request.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const result = await session.queryAsync(request.query, { format: request.defaultFormat });
        const bytes = result.bytes();
        Object.assign(stats, {
          rowsRead: result.rowsRead,
          resultBytes: bytes.length,
          resultRows: Number.NaN,
        });
        return {
          kind: verdict.kind,
          format,
          stats,
          body: (async function* () {
            await Promise.resolve();
            yield bytes;
          })(),
        };
      } finally {
        request.signal.removeEventListener('abort', onAbort);
      }
    }

    const stream = session.queryStream(request.query, { format: request.defaultFormat });
    const cancel = () => {
      // A stream cancels between blocks; the block being computed is stopped in the engine.
      stream.cancel();
      this.#kill(tag);
    };
    entry.abort = cancel;
    request.signal.addEventListener('abort', cancel, { once: true });
    const blocks = this.#blocks(stream, format, tag, stats, request.signal);
    try {
      const first = await blocks.next();
      return {
        kind: verdict.kind,
        format,
        stats,
        body: (async function* () {
          try {
            if (!first.done) yield first.value;
            yield* blocks;
          } finally {
            request.signal.removeEventListener('abort', cancel);
            await blocks.return();
          }
        })(),
      };
    } catch (error) {
      request.signal.removeEventListener('abort', cancel);
      await blocks.return();
      throw error;
    }
  }

  /** A stream's blocks, with the repeated header of *WithNames formats dropped after the first. */
  async *#blocks(
    stream: ChdbQueryStream,
    format: string,
    tag: string,
    stats: SqlStats,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    let header: Buffer | undefined;
    let polled = 0;
    try {
      for await (const chunk of stream) {
        let bytes = chunk.raw();
        if (delivery(format) === 'header') {
          const length = headerLength(format, bytes);
          const own = Buffer.from(bytes.buffer, bytes.byteOffset, length);
          if (!header) header = Buffer.from(own);
          else if (!own.equals(header)) {
            throw SqlError.of(
              'NOT_IMPLEMENTED',
              `Cannot stream ${format}: blocks disagree on the header`,
            );
          } else bytes = bytes.subarray(length);
        }
        stats.resultRows += chunk.numRows;
        stats.resultBytes += bytes.length;
        // The engine gives no read count with a stream; its process list has it while it runs.
        if (Date.now() - polled > PROGRESS_EVERY_MS) {
          polled = Date.now();
          stats.rowsRead = Math.max(stats.rowsRead, await this.#rowsRead(tag));
        }
        yield bytes;
      }
      // A cancelled stream just ends; it must not pass for a complete result.
      if (signal.aborted || this.#closed) {
        throw SqlError.of('QUERY_WAS_CANCELLED', 'Query was cancelled');
      }
    } finally {
      stream.cancel();
    }
  }

  /** Stops a running statement in the engine (chdb cannot interrupt a call it has started). */
  #kill(tag: string): void {
    void internal(
      this.#options.path,
      `KILL QUERY WHERE Settings['log_comment'] = ${sqlString(tag)} ASYNC`,
    ).catch(() => undefined);
  }

  async #rowsRead(tag: string): Promise<number> {
    try {
      const rows = await internal(
        this.#options.path,
        `SELECT read_rows FROM system.processes WHERE Settings['log_comment'] = ${sqlString(tag)}`,
      );
      return Number((rows[0] as { read_rows?: string } | undefined)?.read_rows ?? 0);
    } catch {
      return 0;
    }
  }

  #setup(tag: string, request: SqlRequest): string {
    const { database, limits } = this.#options;
    const filters = Object.entries(SYSTEM_TABLES)
      .filter((entry): entry is [string, string] => entry[1] !== null)
      .map(
        ([table, column]) =>
          `${sqlString(`system.${table}`)}: ${sqlString(`${column} = ${sqlString(database)}`)}`,
      );
    const settings = new Map<string, string>([
      ['max_execution_time', String(limits.max_execution_time)],
      ['timeout_overflow_mode', 'throw'],
      ['max_result_rows', String(limits.max_result_rows)],
      ['max_result_bytes', String(limits.max_result_bytes)],
      ['result_overflow_mode', 'throw'],
      ['max_memory_usage', String(limits.max_memory_usage)],
      ['max_threads', String(limits.max_threads)],
      ['max_rows_to_read', String(limits.max_rows_to_read)],
      ['max_bytes_to_read', String(limits.max_bytes_to_read)],
      ['os_thread_priority', String(NICE)],
      // ClickHouse's server default (64-bit integers as JSON strings); chdb's differs.
      ['output_format_json_quote_64bit_integers', '1'],
      ['log_comment', tag],
      ...request.settings,
    ]);
    const assignments = [...settings].map(([name, value]) => `${name} = ${sqlString(value)}`);
    assignments.push(`additional_table_filters = {${filters.join(', ')}}`);
    for (const [name, value] of request.params)
      assignments.push(`param_${name} = ${sqlString(value)}`);
    assignments.push(`param__nps_query = ${sqlString(escapedParam(request.query))}`);
    // Last: from here on nothing, not even the statement's own SETTINGS, can change a setting.
    assignments.push(`readonly = '1'`);
    // The database name passed config validation as an identifier.
    return `USE \`${database}\`; SET ${assignments.join(', ')}`;
  }

  /** Cancels every running statement and waits until the engine has let go of them. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#running];
    for (const entry of running) entry.abort();
    await Promise.all(running.map((e) => e.done));
  }
}

async function query(session: Session, sql: string, format: string): Promise<string> {
  return (await session.queryAsync(sql, { format })).text();
}

/** Runs a fixed internal statement on a connection of its own; JSONEachRow rows. */
async function internal(path: string, sql: string): Promise<unknown[]> {
  const session = new Session(path);
  try {
    return (await query(session, sql, 'JSONEachRow'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown);
  } finally {
    session.close();
  }
}
