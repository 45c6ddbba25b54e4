import { NpsError } from '../errors.js';

/**
 * ClickHouse's error codes this endpoint sends itself, by name, with their numbers (from the
 * engine's `errorCodeToName`). Errors the engine raises keep the code it gave.
 */
export const CLICKHOUSE_CODES = {
  BAD_ARGUMENTS: 36,
  SYNTAX_ERROR: 62,
  UNKNOWN_FORMAT: 73,
  UNKNOWN_DATABASE: 81,
  UNKNOWN_COMPRESSION_METHOD: 89,
  READONLY: 164,
  REQUIRED_PASSWORD: 194,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  QUERY_IS_TOO_LARGE: 229,
  QUERY_WAS_CANCELLED: 394,
  ACCESS_DENIED: 497,
  AUTHENTICATION_FAILED: 516,
  NOT_IMPLEMENTED: 48,
  UNKNOWN_EXCEPTION: 1002,
} as const;

export type ClickHouseCodeName = keyof typeof CLICKHOUSE_CODES;

// The HTTP status ClickHouse's server gives each error code (src/Server/HTTP/
// exceptionCodeToHTTPStatus.cpp); everything else is 500.
const BAD_REQUEST = [
  6, 8, 15, 25, 26, 27, 36, 37, 38, 41, 44, 53, 62, 72, 117, 123, 167, 168, 223, 321, 376, 441, 675,
  676,
];
const NOT_FOUND = [46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 511];
const STATUS_BY_CODE = new Map<number, number>([
  [194, 401],
  ...[192, 193, 497, 512, 516].map((c): [number, number] => [c, 403]),
  ...BAD_REQUEST.map((c): [number, number] => [c, 400]),
  ...NOT_FOUND.map((c): [number, number] => [c, 404]),
  [229, 413],
  [48, 501],
  [209, 503],
  [76, 503],
  [439, 503],
  [381, 411],
  [159, 408],
  [779, 415],
  // ClickHouse answers 500 here; 429 lets HTTP clients and proxies see it as back-pressure.
  [202, 429],
]);

/** A ClickHouse-protocol error: numeric code, its name and ClickHouse's message text. */
export class SqlError extends NpsError {
  readonly clickhouseCode: number;
  readonly clickhouseName: string;

  constructor(code: number, name: string, message: string, options: { cause?: unknown } = {}) {
    super('SQL_ERROR', message, options);
    this.clickhouseCode = code;
    this.clickhouseName = name;
  }

  static of(name: ClickHouseCodeName, message: string): SqlError {
    return new SqlError(CLICKHOUSE_CODES[name], name, message);
  }

  get httpStatus(): number {
    return STATUS_BY_CODE.get(this.clickhouseCode) ?? 500;
  }

  /** The body ClickHouse sends: `Code: N. DB::Exception: <text>. (NAME) (version V)`. */
  wire(version: string): string {
    const text = this.message.replace(/\.?\s*$/, '');
    return `Code: ${this.clickhouseCode}. DB::Exception: ${text}. (${this.clickhouseName}) (version ${version})\n`;
  }
}

const ENGINE_MESSAGE =
  /^Code: (\d+)\. DB::Exception: ([\s\S]*?)\.? \(([A-Z0-9_]+)\)(?: \(version [^)]*\))?\.?\s*$/;

/**
 * The engine's own error, as a SqlError: chdb gives ClickHouse's text (`Code: 62. DB::Exception:
 * ... (SYNTAX_ERROR)`), sometimes wrapped twice. Anything else becomes UNKNOWN_EXCEPTION with no
 * detail, since foreign messages may quote data.
 */
export function fromEngine(error: unknown): SqlError {
  if (error instanceof SqlError) return error;
  let text = error instanceof Error ? error.message : '';
  // "Code: 164. DB::Exception: Code: 164. DB::Exception: ... (READONLY) (version x). (READONLY)"
  for (;;) {
    const inner = /^Code: \d+\. DB::Exception: (Code: \d+\. DB::Exception: [\s\S]*)$/.exec(text);
    if (!inner?.[1]) break;
    text = inner[1].replace(/ \(version [^)]*\)\. \([A-Z0-9_]+\)\s*$/, '').replace(/\.$/, '');
  }
  const match = ENGINE_MESSAGE.exec(text.trim());
  if (!match?.[1] || match[2] === undefined || !match[3]) {
    return new SqlError(1002, 'UNKNOWN_EXCEPTION', 'Query failed in the engine', { cause: error });
  }
  return new SqlError(Number(match[1]), match[3], match[2], { cause: error });
}
