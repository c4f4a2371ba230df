/** Error codes raised by media/vad. Match on `code`, never on the message text. */
export type VadErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'MODEL_LOAD_FAILED'
  | 'INFERENCE_FAILED'
  | 'WORKER_FAILED'
  | 'ENGINE_CLOSED'
  | 'BAD_OPTIONS';

export class VadError extends Error {
  override readonly name = 'VadError';
  readonly code: VadErrorCode;

  constructor(code: VadErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
