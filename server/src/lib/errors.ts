// Errors users cause carry a code, an HTTP status and a message meant for them.
// Anything else is unexpected: logged in full, shown masked.

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  /** a failure the service already logged, answered with a message its seed documents */
  | 'INTERNAL';

const statusOf: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = statusOf[code];
  }
}

export const badRequest = (msg: string) => new AppError('BAD_REQUEST', msg);
export const notFound = (msg: string) => new AppError('NOT_FOUND', msg);
export const unauthenticated = (msg = 'missing or invalid API token') => new AppError('UNAUTHENTICATED', msg);
export const forbidden = (msg: string) => new AppError('FORBIDDEN', msg);
export const unavailable = (msg: string) => new AppError('UNAVAILABLE', msg);
