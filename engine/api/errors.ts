/**
 * API errors in the flat shape of spec §2.6:
 * { error, message, code, param?, type, details?, retry_after? }.
 */
export type ErrorCode =
  | 'unauthorized' | 'api_key_expired' | 'api_key_revoked' | 'forbidden'
  | 'invalid_request' | 'missing_field' | 'invalid_value' | 'invalid_json' | 'call_not_active'
  | 'no_outbound_number' | 'no_outbound_trunk' | 'no_transfer_trunk'
  | 'provider_key_missing' | 'invalid_provider_key' | 'resend_key_missing' | 'local_tts_unavailable'
  | 'insufficient_credits' | 'not_found' | 'conflict' | 'campaign_completed' | 'lead_in_progress'
  | 'unprocessable' | 'unsupported_media_type' | 'rate_limit_exceeded' | 'internal_error' | 'upstream_unavailable'
  | 'service_unavailable' | 'telephony_unavailable' | 'upstream_timeout';

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error',
  404: 'not_found_error', 409: 'conflict_error', 415: 'invalid_request_error', 422: 'invalid_request_error',
  429: 'rate_limit_error',
};

const TITLE: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export interface ErrorBody {
  error: string;
  message: string;
  code: ErrorCode;
  type: string;
  param?: string;
  details?: string[];
  retry_after?: number;
}

export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: ErrorCode;
  readonly param: string | undefined;
  readonly details: string[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(statusCode: number, code: ErrorCode, message: string, opts: { param?: string; details?: string[]; retryAfter?: number } = {}) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.param = opts.param;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = {
      error: TITLE[this.statusCode] ?? 'Error',
      message: this.message,
      code: this.code,
      type: TYPE_BY_STATUS[this.statusCode] ?? 'api_error',
    };
    if (this.param !== undefined) body.param = this.param;
    if (this.details !== undefined) body.details = this.details;
    if (this.retryAfter !== undefined) body.retry_after = this.retryAfter;
    return body;
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, code: ErrorCode = 'conflict', param?: string): ApiError =>
  new ApiError(409, code, message, param === undefined ? {} : { param });
export const badRequest = (code: ErrorCode, message: string, param?: string): ApiError =>
  new ApiError(400, code, message, param === undefined ? {} : { param });

/** One validation problem: the dotted field path and what is wrong with it. */
export interface Problem {
  readonly param: string;
  readonly message: string;
  readonly code: 'missing_field' | 'invalid_value';
}

/** Collects every problem of a body, then throws one 400 naming the first field and listing all. */
export class Problems {
  readonly list: Problem[] = [];
  missing(param: string): void {
    this.list.push({ param, code: 'missing_field', message: `${param} is required` });
  }
  invalid(param: string, message: string): void {
    this.list.push({ param, code: 'invalid_value', message: `${param} ${message}` });
  }
  get ok(): boolean {
    return this.list.length === 0;
  }
  throwIfAny(): void {
    if (this.list.length) throw validationError(this.list);
  }
}

export function validationError(problems: readonly Problem[]): ApiError {
  const first = problems[0] as Problem;
  return new ApiError(400, first.code, first.message, {
    param: first.param,
    details: problems.map((p) => p.message),
  });
}
