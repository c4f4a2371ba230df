/**
 * The call's record: status transitions, the transcript as it grows, per-turn latency, the end
 * (reason, duration, usage row), then summary and analysis and the end-of-call report through the
 * durable outbox. Every write goes to SQLite as it happens, so a crash loses at most the turn in
 * flight; start-up ends calls a crash left live and still sends their reports.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import type { CallRecord } from '../store/repos/calls.js';
import {
  buildEndOfCallReport, buildStatusUpdate, type CallContext, type OrgWebhook, type WebhookOutbox,
} from '../webhooks/index.js';
import { analyze, summarize } from '../analysis/index.js';
import type { CallMessage, EndReason, TurnLatency } from './conversation.js';
import type { ByokUse } from './providers.js';
import type { LlmProvider } from '../providers/llm.js';
import type { EngineMetrics } from '../metrics.js';

type Obj = Record<string, unknown>;

export interface RecorderInit {
  store: Store;
  outbox: WebhookOutbox;
  log: Logger;
  orgId: string;
  callId: string;
  context: CallContext;
  /** Analysis LLM (null: summary and analysis are skipped and the report says so). */
  analysisLlm: () => { llm: LlmProvider; model: string } | null;
  metrics?: EngineMetrics;
  /** After the report: e-mail the summary to the assistant's notification addresses. */
  notify?: (call: CallRecord) => Promise<void>;
}

/** Reasons that make an answered call REST `failed` / webhook `ended-with-error`. */
const ERROR_REASONS: ReadonlySet<EndReason> = new Set(['error', 'assistant_request_failed']);

export class CallRecorder {
  readonly #i: RecorderInit;
  readonly #messages: CallMessage[] = [];
  readonly #turns: TurnLatency[] = [];
  /** Everything stored in the call's `timings` (exposed as `latency`): turns plus call-level marks. */
  readonly #timings: Record<string, unknown> = { turns: this.#turns };
  #startedAt: string | null = null;
  #ended: Promise<CallRecord | undefined> | null = null;
  #byok: ByokUse = { stt: false, llm: false, tts: false };

  constructor(init: RecorderInit) {
    this.#i = init;
  }

  get id(): string {
    return this.#i.callId;
  }

  get context(): CallContext {
    return this.#i.context;
  }

  get org(): OrgWebhook | null {
    const o = this.#i.store.organizations.get(this.#i.orgId);
    return o ? { webhook_url: o.webhook_url, webhook_secret: o.webhook_secret } : null;
  }

  setByok(b: ByokUse): void {
    this.#byok = b;
  }

  /** The assistant may change before answering (assistant-request). */
  setAssistant(assistant: Obj, agentId: string | null): void {
    this.#i.context.assistant = assistant;
    this.#i.context.call.pipeline = pipelineOf(assistant);
    const { webhook_secret: _s, ...safe } = assistant;
    this.#i.store.calls.update(this.#i.callId, {
      assistant_config: safe, agent_id: agentId,
      agent_name: typeof assistant.name === 'string' ? assistant.name : null,
      business_name: typeof assistant.business_name === 'string' ? assistant.business_name : null,
      metadata: typeof assistant.metadata === 'object' && assistant.metadata !== null ? assistant.metadata as Obj : null,
    });
  }

  inProgress(): void {
    this.#startedAt = new Date().toISOString();
    this.#i.store.calls.update(this.#i.callId, { status: 'in-progress', started_at: this.#startedAt });
    this.#dispatch(buildStatusUpdate(this.#i.context, { status: 'in-progress' }));
  }

  message(index: number, m: CallMessage): void {
    this.#messages[index] = m;
    this.#i.store.calls.update(this.#i.callId, { messages: this.#messages });
  }

  latency(l: TurnLatency): void {
    this.#turns.push(l);
    this.#i.store.calls.update(this.#i.callId, { timings: this.#timings });
  }

  /** Call-level timings (e.g. greeting_queued_ms). */
  timing(key: string, value: unknown): void {
    this.#timings[key] = value;
    this.#i.store.calls.update(this.#i.callId, { timings: this.#timings });
  }

  recording(path: string): void {
    this.#i.store.calls.update(this.#i.callId, { recording_path: path });
  }

  /**
   * Idempotent. Writes the end, the usage row, then (in the background of the caller's await)
   * summary + analysis and the report.
   */
  end(reason: EndReason, error: string | null = null): Promise<CallRecord | undefined> {
    return (this.#ended ??= this.#end(reason, error));
  }

  async #end(reason: EndReason, error: string | null): Promise<CallRecord | undefined> {
    const { store, callId, context } = this.#i;
    const endedAt = new Date().toISOString();
    const duration = this.#startedAt ? Math.max(0, Math.round((Date.parse(endedAt) - Date.parse(this.#startedAt)) / 1000)) : 0;
    // Never connected (no answer, busy, rejected, failed) or ended by an error: REST `failed` (spec §4.11).
    const status = !this.#startedAt || ERROR_REASONS.has(reason) ? 'failed' : 'ended';
    const rec = store.calls.update(callId, {
      status, end_reason: reason, error, ended_at: endedAt, duration_seconds: duration, messages: this.#messages,
    });
    if (!rec) return undefined;
    this.#i.metrics?.callsEnded.inc({ end_reason: reason, direction: rec.direction ?? 'inbound' });
    if (this.#startedAt) {
      store.usage.insert(rec.org_id, {
        call_id: callId, duration_sec: duration, byok_stt: this.#byok.stt, byok_llm: this.#byok.llm, byok_tts: this.#byok.tts,
        phone_number: rec.phone_number, agent_name: rec.agent_name, business_name: rec.business_name,
        call_type: rec.direction === 'web' ? 'web' : 'phone',
      });
    }
    // status-update is only sent for calls that reached in-progress (spec §6.5).
    if (this.#startedAt) {
      this.#dispatch(buildStatusUpdate(context, status === 'failed'
        ? { status: 'ended-with-error', error: error ?? reason, endReason: reason }
        : { status: 'ended', endReason: reason }));
    }
    let summary = '';
    let analysis: Obj | null = null;
    const llm = this.#messages.some((m) => m.role !== 'system') ? this.#i.analysisLlm() : null;
    if (llm) {
      try {
        summary = await summarize(llm.llm, llm.model, this.#messages, AbortSignal.timeout(30_000));
        analysis = await analyze(llm.llm, llm.model, {
          plan: (context.assistant.analysis_plan as Obj | null | undefined) ?? null, messages: this.#messages, endReason: reason,
          summary, durationSeconds: duration, callerNumber: context.customer.number,
        }, AbortSignal.timeout(30_000));
      } catch (e) {
        this.#i.log.warn({ err: (e as Error).message }, 'post-call analysis failed');
      }
    }
    if (reason === 'voicemail' && !summary) {
      const left = this.#messages.filter((m) => m.role === 'assistant').at(-1)?.content;
      summary = left ? `Voicemail detected. Left message: ${left}` : 'Voicemail detected. No message left.';
    }
    const final = store.calls.update(callId, { summary, analysis_result: analysis });
    this.#dispatch(buildEndOfCallReport(context, {
      durationSeconds: duration, summary, messages: this.#messages, analysis, endReason: reason,
      startedAt: this.#startedAt, endedAt, recordingUrl: rec.recording_path ? `/api/v1/calls/${encodeURIComponent(callId)}/recording` : null,
    }));
    if (final && this.#i.notify) await this.#i.notify(final).catch((e: unknown) => this.#i.log.warn({ err: (e as Error).message }, 'summary e-mail failed'));
    return final;
  }

  #dispatch(payload: Parameters<WebhookOutbox['dispatch']>[0]['payload']): void {
    try {
      this.#i.outbox.dispatch({ orgId: this.#i.orgId, callId: this.#i.callId, assistant: this.#i.context.assistant, org: this.org, payload });
    } catch (e) {
      this.#i.log.warn({ err: (e as Error).message }, 'webhook not queued');
    }
  }
}

function pipelineOf(assistant: Obj): 'standard' | 'realtime' {
  const llm = assistant.llm_config as Obj | undefined;
  return llm && typeof llm.provider === 'string' && /realtime|live/.test(llm.provider) ? 'realtime' : 'standard';
}

/**
 * Start-up after a crash: calls left connecting / in-progress end with `error`, and their
 * status-update and end-of-call report still go out (through the outbox).
 */
export function recoverCrashedCalls(store: Store, outbox: WebhookOutbox, log: Logger): number {
  const live = store.calls.listLive();
  for (const c of live) {
    // The call row keeps the config without its secret; a saved assistant still has it.
    const saved = c.agent_id ? store.assistants.get(c.org_id, c.agent_id) : undefined;
    const assistant = { ...(c.assistant_config ?? {}), ...(saved?.webhook_secret ? { webhook_secret: saved.webhook_secret } : {}) };
    const ctx: CallContext = {
      call: { id: c.id, type: c.direction === 'outbound' ? 'outbound_phone_call' : c.direction === 'web' ? 'web_call' : 'inbound_phone_call', pipeline: pipelineOf(assistant) },
      phoneNumber: { id: c.number_id, number: c.assistant_phone, name: null },
      customer: { number: c.caller_phone },
      assistant: { ...assistant, id: c.agent_id, metadata: c.metadata ?? {} },
    };
    const endedAt = new Date().toISOString();
    const duration = c.started_at ? Math.max(0, Math.round((Date.parse(endedAt) - Date.parse(c.started_at)) / 1000)) : 0;
    store.calls.update(c.id, { status: 'failed', end_reason: 'error', error: 'engine restarted during the call', ended_at: endedAt, duration_seconds: duration });
    const org = store.organizations.get(c.org_id);
    const orgHook = org ? { webhook_url: org.webhook_url, webhook_secret: org.webhook_secret } : null;
    if (c.started_at) {
      store.usage.insert(c.org_id, { call_id: c.id, duration_sec: duration, byok_stt: false, byok_llm: false, byok_tts: false, phone_number: c.phone_number, agent_name: c.agent_name, business_name: c.business_name, call_type: 'phone' });
      outbox.dispatch({ orgId: c.org_id, callId: c.id, assistant: ctx.assistant, org: orgHook, payload: buildStatusUpdate(ctx, { status: 'ended-with-error', error: 'engine restarted during the call', endReason: 'error' }) });
    }
    outbox.dispatch({ orgId: c.org_id, callId: c.id, assistant: ctx.assistant, org: orgHook, payload: buildEndOfCallReport(ctx, {
      durationSeconds: duration, summary: '', messages: c.messages ?? [], endReason: 'error', startedAt: c.started_at, endedAt,
    }) });
    log.warn({ callId: c.id }, 'call left live by a crash ended with end_reason "error"');
  }
  return live.length;
}
