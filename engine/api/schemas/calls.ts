import { Type } from '@sinclair/typebox';
import type { CallRecord, CallStatus } from '../../store/repos/calls.js';
import type { ControlCommand } from '../deps.js';
import type { Problem } from '../errors.js';
import { AnyObject, E164, Enum, Nullable, PageQuery, Pagination, Timestamp } from './common.js';
import { AssistantOverride, TransientAssistant } from './assistant.js';
import { isTransferDestination } from './telephony.js';

export const CALL_STATUSES = ['connecting', 'in-progress', 'ended', 'failed'] as const satisfies readonly CallStatus[];

const Message = Type.Object({ role: Enum(['system', 'user', 'assistant'] as const), content: Type.String() });

/** Call (spec §4.11) plus the engine extensions `metadata` and `latency`. */
export const Call = Type.Object({
  id: Type.String({ description: 'call-_<remote E.164 or "web">_<12 base62>' }),
  caller_phone: Nullable(Type.String()),
  assistant_phone: Nullable(Type.String()),
  status: Enum(CALL_STATUSES),
  direction: Nullable(Enum(['inbound', 'outbound', 'web'] as const)),
  end_reason: Nullable(Type.String()),
  error: Nullable(Type.String()),
  started_at: Nullable(Timestamp),
  ended_at: Nullable(Timestamp),
  duration_seconds: Nullable(Type.Integer()),
  summary: Nullable(Type.String()),
  analysis_result: Nullable(AnyObject),
  messages: Nullable(Type.Array(Message)),
  metadata: Nullable(AnyObject),
  room_name: Nullable(Type.String()),
  recording_url: Nullable(Type.String({ description: 'Authenticated engine URL (GET with your API key) when the call was recorded' })),
  agent_id: Nullable(Type.String()),
  number_id: Nullable(Type.String()),
  agent_name: Nullable(Type.String()),
  business_name: Nullable(Type.String()),
  phone_number: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  latency: Nullable(Type.Object({}, { additionalProperties: true, description: 'Engine extension: per-turn latency breakdown recorded by the call' })),
});

export const CallListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Enum(CALL_STATUSES)),
});

export const CallList = Type.Object({ calls: Type.Array(Call), pagination: Pagination });

/** The API shape of a stored call. */
export function callView(c: CallRecord): Record<string, unknown> {
  return {
    id: c.id,
    caller_phone: c.caller_phone,
    assistant_phone: c.assistant_phone,
    status: c.status,
    direction: c.direction,
    end_reason: c.end_reason,
    error: c.error,
    started_at: c.started_at,
    ended_at: c.ended_at,
    duration_seconds: c.duration_seconds,
    summary: c.summary,
    analysis_result: c.analysis_result,
    messages: c.messages,
    metadata: c.metadata,
    room_name: c.room_name,
    recording_url: c.recording_path === null ? null : `/api/v1/calls/${encodeURIComponent(c.id)}/recording`,
    agent_id: c.agent_id,
    number_id: c.number_id,
    agent_name: c.agent_name,
    business_name: c.business_name,
    phone_number: c.phone_number,
    created_at: c.created_at,
    updated_at: c.updated_at,
    latency: c.timings,
  };
}

/** OutboundCallRequest (spec §4.13), with the deprecated spellings agent_id / agent / agent_config. */
export const OutboundCallRequest = Type.Object({
  destination: E164,
  number_id: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'Caller-ID number; when omitted the engine picks one (see description)' }))),
  assistant_id: Type.Optional(Type.String({ format: 'uuid', description: 'Saved assistant (reference or hybrid mode)' })),
  agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'Deprecated alias of assistant_id' })),
  assistant: Type.Optional(TransientAssistant),
  agent: Type.Optional(TransientAssistant),
  assistant_override: Type.Optional(AssistantOverride),
  agent_config: Type.Optional(AssistantOverride),
  first_message: Type.Optional(Nullable(Type.String({ description: 'Greeting override for this call' }))),
}, { additionalProperties: true });

export const OutboundCallResponse = Type.Object({
  success: Type.Literal(true),
  call_id: Type.String(),
  status: Type.Literal('dialing'),
});

/** CallControlCommand (spec §4.12); documentation schema, checked by `parseControlCommand`. */
export const CallControlCommand = Type.Union([
  Type.Object({ type: Type.Literal('inject-context'), content: Type.String({ minLength: 1 }), trigger_response: Type.Optional(Type.Boolean({ default: false })) }, { title: 'InjectContextCommand' }),
  Type.Object({ type: Type.Literal('say'), content: Type.String({ minLength: 1 }), end_after: Type.Optional(Type.Boolean({ default: false })) }, { title: 'SayCommand' }),
  Type.Object({ type: Type.Literal('end-call'), message: Type.Optional(Type.String()) }, { title: 'EndCallCommand' }),
  Type.Object({ type: Type.Literal('transfer'), destination: Type.String({ description: 'E.164 number or sip:/sips:/tel: URI' }), message: Type.Optional(Type.String()) }, { title: 'TransferCommand' }),
]);

export const CallControlResponse = Type.Object({ success: Type.Boolean(), message: Type.Optional(Type.String()) });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks one control command (spec §4.12, §7.6); the route reports the problems with the code
 * `invalid_request`; missing `trigger_response` / `end_after` default to false (PROPOSED leniency).
 */
export function parseControlCommand(body: unknown): { command: ControlCommand } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const bad = (param: string, message: string): void => {
    problems.push({ param, code: 'invalid_value', message: `${param} ${message}` });
  };
  if (!isObj(body)) return { problems: [{ param: 'body', code: 'invalid_value', message: 'body must be a JSON object' }] };
  const text = (k: string, required: boolean): string | undefined => {
    const v = body[k];
    if (v === undefined || v === null) {
      if (required) bad(k, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') bad(k, 'must be a string');
    else if (required && v.trim() === '') bad(k, 'must not be empty');
    else return v;
    return undefined;
  };
  const flag = (k: string): boolean => {
    const v = body[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') bad(k, 'must be a boolean');
    return v === true;
  };
  let command: ControlCommand | undefined;
  switch (body.type) {
    case 'inject-context': {
      const content = text('content', true);
      const trigger = flag('trigger_response');
      if (content !== undefined) command = { type: 'inject-context', content, trigger_response: trigger };
      break;
    }
    case 'say': {
      const content = text('content', true);
      const endAfter = flag('end_after');
      if (content !== undefined) command = { type: 'say', content, end_after: endAfter };
      break;
    }
    case 'end-call': {
      const message = text('message', false);
      command = message === undefined ? { type: 'end-call' } : { type: 'end-call', message };
      break;
    }
    case 'transfer': {
      const destination = text('destination', true);
      const message = text('message', false);
      if (destination !== undefined && !isTransferDestination(destination.trim())) {
        bad('destination', 'must be an E.164 number (e.g. +31850835037) or a sip:, sips: or tel: URI');
      } else if (destination !== undefined) {
        const d = destination.trim();
        command = message === undefined ? { type: 'transfer', destination: d } : { type: 'transfer', destination: d, message };
      }
      break;
    }
    case undefined:
      bad('type', 'is required: one of "inject-context", "say", "end-call", "transfer"');
      break;
    default:
      bad('type', 'must be one of "inject-context", "say", "end-call", "transfer"');
  }
  if (problems.length || command === undefined) return { problems };
  return { command };
}
