/** Error codes of the media plane. Match on `code`, never on the message text. */
export type MediaErrorCode =
  | 'NOT_STARTED'
  | 'CLOSED'
  | 'PORTS_EXHAUSTED'
  | 'NO_REMOTE'
  | 'NO_TELEPHONE_EVENT'
  | 'UNSUPPORTED_CODEC'
  | 'BAD_AUDIO'
  | 'BAD_DIGIT'
  | 'RECORDING'
  | 'RTPENGINE'
  | 'BAD_OPTIONS'
  | 'WORKER_FAILED';

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}
