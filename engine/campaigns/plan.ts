/**
 * What one attempt dials (spec §8.4 PROPOSED): the campaign's assistant with
 * `llm_config.messages` extended by one `system` message, the rendered
 * `system_message_template`; and `metadata` carrying the lead's variables with `campaign_id`,
 * `lead_id` and `campaign_attempt`, which the call stores and every webhook echoes.
 */
import type { OutboundPlan } from '../api/deps.js';
import type { AssistantRecord } from '../store/repos/assistants.js';
import type { CampaignRecord, LeadRecord } from '../store/repos/campaigns.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `{{key}}` (spaces inside the braces allowed) -> `vars[key]`; unknown keys -> ''. `{{phone_number}}`
 * is the lead's number unless the variables name one themselves.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>, phoneNumber: string): string {
  return template.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_m, key: string) => {
    if (Object.prototype.hasOwnProperty.call(vars, key)) return vars[key] ?? '';
    return key === 'phone_number' ? phoneNumber : '';
  });
}

export interface PlanInput {
  campaign: Pick<CampaignRecord, 'id' | 'system_message_template'>;
  lead: Pick<LeadRecord, 'id' | 'phone_number' | 'variables'>;
  attempt: number;
  assistant: AssistantRecord;
  numberId: string;
}

/** The OutboundPlan of one attempt (the same shape POST /calls/outbound hands to the telephony). */
export function buildPlan(p: PlanInput): OutboundPlan {
  const { id, created_at: _c, updated_at: _u, metadata, ...config } = p.assistant;
  const assistant: Obj = { ...config };
  const tpl = p.campaign.system_message_template;
  if (tpl !== null && tpl.trim() !== '') {
    const llm: Obj = isObj(assistant.llm_config) ? { ...assistant.llm_config } : {};
    const messages = Array.isArray(llm.messages) ? [...(llm.messages as unknown[])] : [];
    messages.push({ role: 'system', content: renderTemplate(tpl, p.lead.variables, p.lead.phone_number) });
    llm.messages = messages;
    assistant.llm_config = llm;
  }
  return {
    destination: p.lead.phone_number,
    numberId: p.numberId,
    assistantId: id,
    assistant,
    firstMessage: null,
    metadata: {
      ...(isObj(metadata) ? metadata : {}),
      ...p.lead.variables,
      campaign_id: p.campaign.id,
      lead_id: p.lead.id,
      campaign_attempt: p.attempt,
    },
  };
}
