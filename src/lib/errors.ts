// One error type for everything the app refuses on purpose. `message` is safe to show to the user; `detail` is
// for the log only. Anything that is not an AppError is an unexpected failure and shows a generic 500 page.

export type ErrorCode =
  | "BAD_INPUT"
  | "NOT_SIGNED_IN"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "CSRF"
  | "RATE_LIMITED"
  | "TOO_LARGE"
  | "UNAVAILABLE";

const STATUS: Record<ErrorCode, number> = {
  BAD_INPUT: 400,
  NOT_SIGNED_IN: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CSRF: 403,
  RATE_LIMITED: 429,
  TOO_LARGE: 413,
  UNAVAILABLE: 503,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "AppError";
    this.status = STATUS[code];
  }
}

export const badInput = (message: string) => new AppError("BAD_INPUT", message);
export const notFound = (message = "That page or record does not exist.") => new AppError("NOT_FOUND", message);
export const forbidden = (message = "You do not have permission to see this page.") =>
  new AppError("FORBIDDEN", message);
export const conflict = (message: string) => new AppError("CONFLICT", message);
