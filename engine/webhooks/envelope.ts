/**
 * The webhook payloads (spec §6.2–§6.6): `{ "message": { type, timestamp, call, phone_number,
 * customer, assistant?, ...event fields } }`, as a tagged union on `message.type`.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: unknown };

export const WEBHOOK_EVENT_TYPES = ['assistant-request', 'tool-calls', 'status-update', 'end-of-call-report'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** The events that go through the durable outbox; the other two are synchronous and never retried. */
export type OutboxEventType = 'status-update' | 'end-of-call-report';

export type CallType = 'inbound_phone_call' | 'outbound_phone_call' | 'web_call';
export type Pipeline = 'standard' | 'realtime';

/** Spec §6.6 (PROPOSED full enum). */
export type EndReason =
  | 'user_hangup' | 'assistant_hangup' | 'control_end_call' | 'silence_timeout' | 'voicemail' | 'max_duration'
  | 'transferred' | 'rejected' | 'no_answer' | 'busy' | 'failed_to_connect' | 'assistant_request_failed' | 'error';

export interface CallObject<S extends string = string> {
  id: string;
  type: CallType;
  status: S;
  pipeline: Pipeline;
}
export interface PhoneNumberObject {
  id: string | null;
  number: string | null;
  name: string | null;
}
export interface CustomerObject {
  number: string | null;
}
/** The fully resolved assistant of the call, minus `webhook_secret`, plus `id` (null if transient) and `metadata`. */
export type AssistantWebhookObject = JsonObject & { id: string | null; metadata: JsonObject };

interface MessageBase<T extends WebhookEventType, S extends string> {
  type: T;
  /** ISO 8601 with milliseconds, UTC. */
  timestamp: string;
  call: CallObject<S>;
  phone_number: PhoneNumberObject;
  customer: CustomerObject;
}

export interface AssistantRequestMessage extends MessageBase<'assistant-request', 'ringing'> {}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: JsonObject };
}
export interface ToolCallsMessage extends MessageBase<'tool-calls', 'in-progress'> {
  assistant: AssistantWebhookObject;
  tool_call_list: ToolCall[];
}

export type StatusUpdateStatus = 'in-progress' | 'ended' | 'ended-with-error';
export interface StatusUpdateMessage extends MessageBase<'status-update', StatusUpdateStatus> {
  assistant: AssistantWebhookObject;
  /** Only with `ended-with-error`. */
  error?: string;
  /** Once ended. */
  end_reason?: EndReason;
}

export interface TranscriptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
export interface EndOfCallReportMessage extends MessageBase<'end-of-call-report', 'ended'> {
  assistant: AssistantWebhookObject;
  duration_seconds: number;
  summary: string;
  messages: TranscriptMessage[];
  analysis?: JsonObject;
  recording_url?: string;
  end_reason?: EndReason;
  started_at?: string;
  ended_at?: string;
}

export type WebhookMessage = AssistantRequestMessage | ToolCallsMessage | StatusUpdateMessage | EndOfCallReportMessage;
export interface WebhookPayload<M extends WebhookMessage = WebhookMessage> {
  message: M;
}

/** What every event of one call shares. `assistant` is the resolved config (spec §4.5 shape, plus metadata). */
export interface CallContext {
  call: { id: string; type: CallType; pipeline: Pipeline };
  phoneNumber: PhoneNumberObject;
  customer: CustomerObject;
  assistant: JsonObject;
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Realtime (speech-to-speech) providers run the `realtime` pipeline. */
const REALTIME_PROVIDERS = new Set(['xai_realtime', 'google_realtime', 'openai_live']);
export function pipelineOf(assistant: JsonObject): Pipeline {
  const llm = assistant.llm_config;
  return isObj(llm) && typeof llm.provider === 'string' && REALTIME_PROVIDERS.has(llm.provider) ? 'realtime' : 'standard';
}

/** Spec §6.2 `AssistantWebhookObject`: the resolved config without the secret; `id` null when transient. */
export function toAssistantWebhookObject(assistant: JsonObject): AssistantWebhookObject {
  const { webhook_secret: _secret, ...rest } = assistant;
  return {
    ...rest,
    id: typeof assistant.id === 'string' ? assistant.id : null,
    metadata: isObj(assistant.metadata) ? assistant.metadata : {},
  };
}

const base = <T extends WebhookEventType, S extends string>(type: T, status: S, ctx: Omit<CallContext, 'assistant'>, at: Date): MessageBase<T, S> => ({
  type,
  timestamp: at.toISOString(),
  call: { id: ctx.call.id, type: ctx.call.type, status, pipeline: ctx.call.pipeline },
  phone_number: { id: ctx.phoneNumber.id, number: ctx.phoneNumber.number, name: ctx.phoneNumber.name },
  customer: { number: ctx.customer.number },
});

/** Spec §6.3: sent before answering; no `assistant` block; `call.status: "ringing"`. */
export function buildAssistantRequest(ctx: Omit<CallContext, 'assistant'>, at = new Date()): WebhookPayload<AssistantRequestMessage> {
  return { message: base('assistant-request', 'ringing', ctx, at) };
}

/** Spec §6.4: `arguments` is a parsed object. */
export function buildToolCalls(ctx: CallContext, toolCalls: ToolCall[], at = new Date()): WebhookPayload<ToolCallsMessage> {
  return {
    message: { ...base('tool-calls', 'in-progress', ctx, at), assistant: toAssistantWebhookObject(ctx.assistant), tool_call_list: toolCalls },
  };
}

export type StatusChange =
  | { status: 'in-progress' }
  | { status: 'ended'; endReason?: EndReason }
  | { status: 'ended-with-error'; error: string; endReason?: EndReason };

/** Spec §6.5: only `in-progress`, `ended` and `ended-with-error` produce events. */
export function buildStatusUpdate(ctx: CallContext, change: StatusChange, at = new Date()): WebhookPayload<StatusUpdateMessage> {
  const m: StatusUpdateMessage = { ...base('status-update', change.status, ctx, at), assistant: toAssistantWebhookObject(ctx.assistant) };
  if (change.status === 'ended-with-error') m.error = change.error;
  if (change.status !== 'in-progress' && change.endReason !== undefined) m.end_reason = change.endReason;
  return { message: m };
}

export interface EndOfCallReport {
  durationSeconds: number;
  summary: string;
  messages: TranscriptMessage[];
  analysis?: JsonObject | null;
  recordingUrl?: string | null;
  endReason?: EndReason | null;
  startedAt?: string | null;
  endedAt?: string | null;
}

/** Spec §6.6. Optional fields are left out when absent (never sent as null). */
export function buildEndOfCallReport(ctx: CallContext, r: EndOfCallReport, at = new Date()): WebhookPayload<EndOfCallReportMessage> {
  const m: EndOfCallReportMessage = {
    ...base('end-of-call-report', 'ended', ctx, at),
    assistant: toAssistantWebhookObject(ctx.assistant),
    duration_seconds: Math.max(0, Math.round(r.durationSeconds)),
    summary: r.summary,
    messages: r.messages.map((x) => ({ role: x.role, content: x.content })),
  };
  if (r.analysis) m.analysis = r.analysis;
  if (r.recordingUrl) m.recording_url = r.recordingUrl;
  if (r.endReason) m.end_reason = r.endReason;
  if (r.startedAt) m.started_at = r.startedAt;
  if (r.endedAt) m.ended_at = r.endedAt;
  return { message: m };
}
