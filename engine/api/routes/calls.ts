import { createReadStream, statSync } from 'node:fs';
import { extname, isAbsolute, join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { ApiDeps, OutboundPlan } from '../deps.js';
import { RateLimiter } from '../auth.js';
import { ApiError, badRequest, notFound, Problems, type Problem } from '../errors.js';
import { errors, IdParams } from '../schemas/common.js';
import { isRealtime, normaliseAssistant, normaliseContext, shallowMerge, wantsLocalTts } from '../schemas/assistant.js';
import {
  Call, CallControlCommand, CallControlResponse, CallList, CallListQuery, callView, OutboundCallRequest, OutboundCallResponse,
  parseControlCommand,
} from '../schemas/calls.js';
import { addNew, alias, bodyProblems, dateRange, handlerChecksBody } from '../schemas/telephony.js';
import type { CallStatus } from '../../store/repos/calls.js';
import type { NumberRecord } from '../../store/repos/numbers.js';
import { orgOf, page } from './util.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const tags = ['Calls'];

const AUDIO_TYPES: Record<string, string> = { '.wav': 'audio/wav', '.mp3': 'audio/mpeg', '.ogg': 'audio/ogg', '.opus': 'audio/ogg' };

const telephonyUnavailable = (): ApiError =>
  new ApiError(503, 'telephony_unavailable', 'Telephony is not running on this engine (no SIP stack is attached), so calls cannot be placed or controlled; the request itself is valid');

/** Re-roots problems found in a nested config (`llm_config.voice` -> `assistant.llm_config.voice`). */
const under = (prefix: string, problems: readonly Problem[]): Problem[] =>
  problems.map((x) => ({ ...x, param: `${prefix}.${x.param}`, message: `${prefix}.${x.message}` }));

/** Calls (spec §3.4), outbound calls (§3.4, §4.13) and call control (§3.5, §7). */
export function registerCalls(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;
  const controlLimiter = new RateLimiter(deps.config.api.controlRateLimitPerMinute, 60_000, deps.now);

  app.get('/calls', {
    schema: {
      tags, summary: 'List calls',
      description: 'Newest first (created_at). Paginated (limit 1–1000, default 100; offset ≥ 0). `start_date`/`end_date` filter on created_at, both inclusive. Calls carry full data (transcript, analysis, metadata).',
      querystring: CallListQuery, response: { 200: CallList, ...errors(400) },
    },
  }, async (req) => {
    const q = req.query as { limit?: number; offset?: number; status?: CallStatus; start_date?: string; end_date?: string };
    const p = new Problems();
    const range = dateRange(q, p);
    p.throwIfAny();
    const { limit, offset } = page(q);
    const r = store.calls.list(orgOf(req), { ...range, ...(q.status ? { status: q.status } : {}), limit, offset });
    return { calls: r.rows.map(callView), pagination: { total: r.total, limit, offset } };
  });

  app.get('/calls/:id', { schema: { tags, summary: 'Get a call (bare Call object, no wrapper)', params: IdParams, response: { 200: Call, ...errors(404) } } },
    async (req) => {
      const c = store.calls.get(orgOf(req), (req.params as { id: string }).id);
      if (!c) throw notFound('Call');
      return callView(c);
    });

  app.get('/calls/:id/recording', {
    schema: {
      tags, summary: 'Download a call recording', description: 'The audio file behind `recording_url`; 404 when the call was not recorded.',
      params: IdParams, response: { 200: Type.String({ format: 'binary' }), ...errors(404) },
    },
  }, async (req, reply) => {
    const c = store.calls.get(orgOf(req), (req.params as { id: string }).id);
    if (!c || c.recording_path === null) throw notFound('Recording');
    const file = isAbsolute(c.recording_path) ? c.recording_path : join(deps.config.dataDir, c.recording_path);
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      throw notFound('Recording');
    }
    return reply
      .header('content-type', AUDIO_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('content-length', size)
      .send(createReadStream(file));
  });

  const outboundSchema: FastifySchema = {
    tags, summary: 'Initiate an outbound call',
    description: [
      'Modes: **reference** (`assistant_id`), **transient** (`assistant`, a full one-time config; text LLMs need `stt_config` and `tts_config`, realtime LLMs must omit them), **hybrid** (`assistant_id` + `assistant_override`, shallow merge: each top-level key replaces the whole block).',
      'Deprecated spellings: `agent_id`, `agent`, `agent_config`. The assistant must be active.',
      'Caller ID: `number_id`, or when omitted the oldest active number assigned to the assistant with an active SIP trunk, else the oldest active number of the organization with an active trunk. No active number → 400 `no_outbound_number`; no usable trunk → 400 `no_outbound_trunk`.',
      'Answers 503 `telephony_unavailable` when the engine runs without a SIP stack.',
    ].join('\n\n'),
    body: OutboundCallRequest, response: { 201: OutboundCallResponse, ...errors(400, 404, 503) },
  };
  app.post('/calls/outbound', { schema: outboundSchema, validatorCompiler: handlerChecksBody }, async (req, reply) => {
    const org = orgOf(req);
    const plan = await planOutbound(org, req.body);
    if (!deps.telephony) throw telephonyUnavailable();
    const { callId } = await deps.telephony.placeOutbound(org, plan);
    return reply.status(201).send({ success: true, call_id: callId, status: 'dialing' });
  });

  /** Every check of spec §3.4/§4.13; throws the first 4xx, else the plan for the telephony layer. */
  async function planOutbound(org: string, raw: unknown): Promise<OutboundPlan> {
    const body = raw as Obj;
    // Schema problems and mode problems are reported together; the configs are normalised only once both pass.
    const p = bodyProblems(OutboundCallRequest, body);
    const mode = new Problems();
    const ref = alias(body, 'assistant_id', 'agent_id', mode);
    const transient = alias(body, 'assistant', 'agent', mode);
    const override = alias(body, 'assistant_override', 'agent_config', mode);
    if (!ref.present && !transient.present) {
      mode.list.push({ param: 'assistant_id', code: 'missing_field', message: 'assistant_id or assistant is required (exactly one of them)' });
    }
    if (ref.present && transient.present) mode.invalid(transient.param, `cannot be combined with ${ref.param}: send exactly one of assistant_id and assistant`);
    if (override.present && !ref.present) mode.invalid(override.param, 'needs assistant_id (hybrid mode); put the fields in assistant instead');
    addNew(p, mode);
    p.throwIfAny();

    const ctx = async (cfg: Obj) => normaliseContext(
      { store, voices: deps.voices, allowHttpWebhooks: deps.config.webhooks.allowHttp }, org, 'transient', wantsLocalTts(cfg));

    let assistantId: string | null = null;
    let cfg: Obj;
    if (ref.present) {
      const saved = store.assistants.get(org, ref.value as string);
      if (!saved) throw badRequest('invalid_value', `${ref.param} does not name an assistant of this organization`, ref.param);
      if (!saved.is_active) throw badRequest('invalid_value', `${ref.param} names an inactive assistant; inactive assistants cannot place calls`, ref.param);
      assistantId = saved.id;
      const { id: _i, created_at: _c, updated_at: _u, ...base } = saved;
      if (!override.present) {
        cfg = base;
      } else {
        const ov = override.value as Obj;
        const merged = shallowMerge(base, ov);
        // An override that switches to a realtime model drops the saved STT/TTS blocks it did not mention.
        if (isObj(merged.llm_config) && isRealtime(merged.llm_config.provider)) {
          if (!('stt_config' in ov)) merged.stt_config = null;
          if (!('tts_config' in ov)) merged.tts_config = null;
        }
        const inner = new Problems();
        cfg = normaliseAssistant(merged, await ctx(merged), inner);
        p.list.push(...under(override.param, inner.list));
      }
    } else {
      const raw = transient.value as Obj;
      const inner = new Problems();
      cfg = normaliseAssistant(raw, await ctx(raw), inner);
      p.list.push(...under(transient.param, inner.list));
    }
    p.throwIfAny();

    const number = chooseNumber(org, body.number_id, assistantId);
    const { metadata, ...assistant } = cfg;
    const firstMessage = body.first_message !== undefined ? (body.first_message as string | null) : (cfg.first_message as string | null | undefined) ?? null;
    return {
      destination: body.destination as string,
      numberId: number.id,
      assistantId,
      assistant,
      firstMessage,
      metadata: isObj(metadata) ? metadata : null,
    };
  }

  function chooseNumber(org: string, numberId: unknown, assistantId: string | null): NumberRecord {
    if (typeof numberId === 'string') {
      const n = store.numbers.get(org, numberId);
      if (!n) throw badRequest('invalid_value', 'number_id does not name a number of this organization', 'number_id');
      if (!n.is_active) throw badRequest('invalid_value', `number_id names an inactive number (${n.phone_number})`, 'number_id');
      const trunk = n.transfer_trunk_id === null ? undefined : store.trunks.get(org, n.transfer_trunk_id);
      if (!trunk || !trunk.is_active) {
        throw badRequest('no_outbound_trunk', `Number ${n.phone_number} has no active SIP trunk for outbound dialling; set its transfer_trunk_id`, 'number_id');
      }
      return n;
    }
    const n = store.numbers.callerIdFor(org, assistantId);
    if (n) return n;
    if (store.numbers.hasActive(org)) {
      throw badRequest('no_outbound_trunk', 'No active number of this organization has an active SIP trunk for outbound dialling; set transfer_trunk_id on a number', 'number_id');
    }
    throw badRequest('no_outbound_number', 'This organization has no active phone number to call from; register one with POST /numbers', 'number_id');
  }

  const controlSchema: FastifySchema = {
    tags: ['Call control'], summary: 'Send a control command to a live call',
    description: 'Commands: `inject-context`, `say`, `end-call`, `transfer` (spec §7). The call must be `in-progress` (else 400 `call_not_active`); at most 10 commands per minute per call (429). Answers 503 `telephony_unavailable` when the engine runs without a SIP stack.',
    params: IdParams, body: CallControlCommand, response: { 200: CallControlResponse, ...errors(400, 404, 429, 503) },
  };
  app.post('/calls/:id/control', { schema: controlSchema, validatorCompiler: handlerChecksBody /* every problem is `invalid_request`, spec §7.6 */ }, async (req, reply) => {
    const parsed = parseControlCommand(req.body);
    if ('problems' in parsed) {
      const first = parsed.problems[0] as Problem;
      throw new ApiError(400, 'invalid_request', first.message, { param: first.param, details: parsed.problems.map((x) => x.message) });
    }
    const org = orgOf(req);
    const call = store.calls.get(org, (req.params as { id: string }).id);
    if (!call) throw notFound('Call');
    if (call.status !== 'in-progress') throw badRequest('call_not_active', `Call is ${call.status}; commands need an in-progress call`);
    const r = controlLimiter.hit(call.id);
    if (!r.allowed) {
      void reply.header('Retry-After', r.retryAfter);
      throw new ApiError(429, 'rate_limit_exceeded', `Too many commands for this call. Please retry after ${r.retryAfter} seconds.`, { retryAfter: r.retryAfter });
    }
    if (!deps.telephony) throw telephonyUnavailable();
    await deps.telephony.control(org, call.id, parsed.command);
    return { success: true, message: 'Command sent successfully' };
  });
}
