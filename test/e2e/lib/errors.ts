/** Errors of the test caller. Match on `code`, never on the message. */
export type CallerErrorCode =
  /** A wait (`waitForAgentSpeech`, `waitForAgentSilence`, `waitFor`) ran out of time. */
  | 'TIMEOUT'
  /** The call ended while something still waited on it. */
  | 'CALL_ENDED'
  /** The call was answered without usable media (no SDP answer, no common codec). */
  | 'NO_MEDIA'
  /** espeak-ng or sox is not installed. */
  | 'TOOL_MISSING'
  | 'RENDER_FAILED'
  | 'BAD_AUDIO'
  /** DTMF by RFC 4733 requested but telephone-event was not negotiated. */
  | 'NO_TELEPHONE_EVENT'
  /** The caller (or the call) is closed. */
  | 'CLOSED';

export class CallerError extends Error {
  constructor(readonly code: CallerErrorCode, message: string) {
    super(message);
    this.name = 'CallerError';
  }
}
