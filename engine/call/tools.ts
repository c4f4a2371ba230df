/**
 * The functions an assistant offers its model (pipeline and realtime alike): function tools as
 * configured, the built-ins end_call and transfer_call (destinations as an enum), and end_call
 * added when autonomous silence handling is on (spec §8.3).
 */
import type { LlmToolFunction } from '../providers/llm.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const END_CALL_FN: LlmToolFunction = {
  name: 'end_call',
  description: 'End the phone call. Use it when the conversation is finished or the caller asks to hang up. Say goodbye first.',
  parameters: { type: 'object', properties: {}, additionalProperties: false },
};

/** The canonical `llm_config.tools` entries of an assistant. */
export function toolDefinitions(assistant: Obj): Obj[] {
  const llm = isObj(assistant.llm_config) ? assistant.llm_config : {};
  return Array.isArray(llm.tools) ? llm.tools.filter(isObj) : [];
}

export function toolFunctions(assistant: Obj): LlmToolFunction[] {
  const out: LlmToolFunction[] = [];
  for (const t of toolDefinitions(assistant)) {
    if (t.type === 'end_call') out.push(END_CALL_FN);
    else if (t.type === 'transfer_call') {
      const dests = Array.isArray(t.destinations) ? t.destinations.filter(isObj) : [];
      out.push({
        name: 'transfer_call',
        description: `Transfer the caller to another number. Destinations:\n${dests.map((d) => `- ${String(d.number)}: ${String(d.description)}`).join('\n')}`,
        parameters: { type: 'object', properties: { destination: { type: 'string', enum: dests.map((d) => String(d.number)) } }, required: ['destination'] },
      });
    } else if (typeof t.name === 'string') {
      out.push({ name: t.name, ...(typeof t.description === 'string' ? { description: t.description } : {}), ...(isObj(t.parameters) ? { parameters: t.parameters } : {}) });
    }
  }
  if (assistant.autonomous_silence_handling === true && !out.some((f) => f.name === 'end_call')) out.push(END_CALL_FN);
  return out;
}
