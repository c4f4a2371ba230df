/** Errors raised by the SIP layer. Match on `code` / `status`, never on message text. */

/** A message that cannot be parsed. `status`/`reason` are what to answer (400 or 513). */
export class SipParseError extends Error {
  readonly code = 'SIP_PARSE' as const;
  constructor(
    readonly status: 400 | 413 | 513 | 505 | 416,
    readonly reason: string,
  ) {
    super(`${status} ${reason}`);
    this.name = 'SipParseError';
  }
}

/** A SIP-level failure carrying the status a peer sent (or that we would send). */
export class SipError extends Error {
  readonly code = 'SIP_STATUS' as const;
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`${status} ${reason}`);
    this.name = 'SipError';
  }
}

export type CallFailureReason = 'busy' | 'no_answer' | 'rejected' | 'failed_to_connect' | 'cancelled';

/** An outgoing call that did not reach a 2xx. */
export class CallFailedError extends Error {
  readonly code = 'SIP_CALL_FAILED' as const;
  constructor(
    readonly reason: CallFailureReason,
    readonly status?: number,
    readonly statusText?: string,
  ) {
    super(`call failed: ${reason}${status ? ` (${status} ${statusText ?? ''})` : ''}`);
    this.name = 'CallFailedError';
  }
}

export type TransportErrorCode = 'SIP_TRANSPORT' | 'SIP_TIMEOUT' | 'SIP_CLOSED';

export class SipTransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SipTransportError';
  }
}

/** Map a final failure response of an INVITE to the end reason the engine records. */
export function failureReasonForStatus(status: number): CallFailureReason {
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no_answer';
  if (status === 403 || status === 603 || status === 404 || status === 484 || status === 604 || status === 410 || status === 401 || status === 407) return 'rejected';
  if (status >= 500) return 'failed_to_connect';
  return 'rejected';
}
