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
