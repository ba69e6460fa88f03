// API errors as RFC 9457 problem details, each with a stable `code` callers can act on.
export const PROBLEM_CODES = {
  invalid_request: { status: 400, title: "Invalid request" },
  unauthorized: { status: 401, title: "Unauthorized" },
  insufficient_funds: { status: 402, title: "Insufficient funds" },
  forbidden_scope: { status: 403, title: "Not allowed for this key" },
  not_found: { status: 404, title: "Not found" },
  member_not_found: { status: 404, title: "Member not found" },
  idempotency_in_progress: { status: 409, title: "Request in progress" },
  conflict: { status: 409, title: "Conflict" },
  request_too_large: { status: 413, title: "Request too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  idempotency_conflict: { status: 422, title: "Idempotency key reused" },
  member_inactive: { status: 422, title: "Member inactive" },
  refund_too_large: { status: 422, title: "Refund too large" },
  rate_limited: { status: 429, title: "Too many requests" },
  card_processor_unavailable: { status: 503, title: "Card processor unavailable" },
  internal_error: { status: 500, title: "Internal error" },
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  [extra: string]: unknown;
}

export class ApiProblem extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "ApiProblem";
    this.status = PROBLEM_CODES[code].status;
  }

  body(): ProblemBody {
    const { status, title } = PROBLEM_CODES[this.code];
    return { type: problemType(this.code), title, status, detail: this.detail, code: this.code, ...this.extra };
  }
}

/** The problem type URI: a page of docs/api.md per code. */
export const problemType = (code: ProblemCode) => `https://bridgecredits.invalid/docs/api#${code}`;

export const problem = (code: ProblemCode, detail: string, extra?: Record<string, unknown>) =>
  new ApiProblem(code, detail, extra);
