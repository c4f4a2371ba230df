/**
 * After the call: an AI summary of every call, and structured analysis when the assistant's
 * analysis_plan asks for it and the transcript has enough messages (spec §4.17, §6.6, §8.7).
 */
import type { LlmMessage, LlmProvider } from '../providers/llm.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface TranscriptLine { role: 'system' | 'user' | 'assistant'; content: string }

export const transcriptText = (messages: readonly TranscriptLine[]): string =>
  messages.filter((m) => m.role !== 'system').map((m) => `${m.role === 'user' ? 'Caller' : 'Assistant'}: ${m.content}`).join('\n');

async function complete(llm: LlmProvider, model: string, messages: LlmMessage[], signal?: AbortSignal): Promise<string> {
  let out = '';
  for await (const ev of llm.complete({ model, messages, temperature: 0, firstTokenTimeoutMs: 20_000, idleTimeoutMs: 20_000 }, signal)) {
    if (ev.type === 'text') out += ev.delta;
  }
  return out.trim();
}

export async function summarize(llm: LlmProvider, model: string, messages: readonly TranscriptLine[], signal?: AbortSignal): Promise<string> {
  const t = transcriptText(messages);
  if (!t) return '';
  return complete(llm, model, [
    { role: 'system', content: 'Summarise this phone call in two or three sentences: who called, what they wanted, and the outcome.' },
    { role: 'user', content: t },
  ], signal);
}

/** Fills {{x}} and {x} placeholders (both styles, spec §4.21). */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}|\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => {
    const k = (a ?? b) as string;
    return k in values ? (values[k] as string) : m;
  });
}

/** Extracts the JSON object from a model reply (plain JSON or a fenced block). */
export function parseJsonObject(text: string): Obj | null {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const candidate = (fenced ? fenced[1] : text) ?? '';
  const start = candidate.indexOf('{');
  const end = candidate.lastIndexOf('}');
  if (start < 0 || end <= start) return null;
  try {
    const v: unknown = JSON.parse(candidate.slice(start, end + 1));
    return isObj(v) ? v : null;
  } catch {
    return null;
  }
}

export interface AnalysisInput {
  plan: Obj | null;
  messages: readonly TranscriptLine[];
  endReason: string;
  summary: string;
  durationSeconds: number;
  callerNumber: string | null;
}

/** Null when not configured, disabled, or below min_messages_threshold (default 2). */
export async function analyze(llm: LlmProvider, model: string, input: AnalysisInput, signal?: AbortSignal): Promise<Obj | null> {
  const plan = input.plan;
  const sdp = plan && isObj(plan.structured_data_plan) ? plan.structured_data_plan : null;
  if (!sdp || sdp.enabled !== true || !isObj(sdp.schema)) return null;
  const threshold = typeof plan?.min_messages_threshold === 'number' ? plan.min_messages_threshold : 2;
  const convo = input.messages.filter((m) => m.role !== 'system');
  if (convo.length < threshold) return null;
  const values = {
    schema: JSON.stringify(sdp.schema), transcript: transcriptText(input.messages), ended_reason: input.endReason,
    summary: input.summary, duration: String(input.durationSeconds), caller_number: input.callerNumber ?? '',
  };
  const prompt = Array.isArray(sdp.messages) && sdp.messages.length
    ? sdp.messages.filter(isObj).map((m) => ({ role: m.role === 'user' ? 'user' as const : 'system' as const, content: fill(String(m.content ?? ''), values) }))
    : [
      { role: 'system' as const, content: fill('Extract the requested data from the call transcript. Reply with JSON matching this schema: {{schema}}', values) },
      { role: 'user' as const, content: values.transcript },
    ];
  if (!prompt.some((m) => m.content.includes(values.transcript))) prompt.push({ role: 'user', content: values.transcript });
  return parseJsonObject(await complete(llm, model, prompt, signal));
}
