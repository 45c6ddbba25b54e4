/**
 * One error type for the whole codebase. `code` is machine-readable and stable; `retriable` tells
 * a caller whether trying the same operation again can succeed (a service that is down) or not
 * (bad configuration).
 */
export const errorCodes = [
  'CONFIG_INVALID',
  'SERVICE_UNAVAILABLE',
  'SERVICE_START_FAILED',
  'PREREQUISITE_MISSING',
  'PORT_TAKEN',
  'DATA_FOLDER_LOCKED',
  'PROCESSOR_RUNNING',
  'SQL_ERROR',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export class NpsError extends Error {
  override readonly name = 'NpsError';
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/**
 * A one-line description of an error that is safe to log: our own errors say what they are, others
 * only their class and code. Messages of foreign errors are left out because drivers echo the data
 * they choked on (a ClickHouse parse error quotes the row), and rows hold comments and contacts.
 */
export function describeError(error: unknown): string {
  if (error instanceof NpsError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number'
      ? `${error.name} ${code}`
      : error.name;
  }
  return typeof error;
}
