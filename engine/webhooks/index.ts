/** Webhooks (spec §5, §6): signing, URL resolution, envelopes, the durable outbox, and the synchronous senders. */
export * from './envelope.js';
export * from './errors.js';
export * from './signing.js';
export * from './resolve.js';
export { attempt, checkWebhookUrl, isRetryableStatus, type AttemptRequest, type AttemptResponse, type FetchFn } from './transport.js';
export * from './outbox.js';
export * from './assistant-request.js';
export * from './tool-calls.js';
