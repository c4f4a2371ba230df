/** A store in memory with an organization, an assistant, a trunk and a caller-ID number, and a fake telephony port. */
import { randomBytes } from 'node:crypto';
import { openDb } from '../../../engine/store/db.js';
import { SecretBox, Store } from '../../../engine/store/index.js';
import { callId as newCallId } from '../../../engine/store/ids.js';
import type { OutboundPlan } from '../../../engine/api/deps.js';
import type { DialerPort } from '../../../engine/campaigns/index.js';
import type { CampaignInput, CampaignRecord } from '../../../engine/store/repos/campaigns.js';
import type { CallMessage } from '../../../engine/store/repos/calls.js';

export const memoryStore = (): Store => new Store(openDb(':memory:'), new SecretBox(randomBytes(32)));

export interface Org { id: string; agentId: string; numberId: string }

/** An organization ready to dial: active assistant, active trunk, a number assigned to the assistant. */
export function addOrg(store: Store, name = 'Org', opts: { number?: boolean } = {}): Org {
  const org = store.organizations.create({ name, parent_org_id: null });
  const agent = store.assistants.create(org.id, {
    name: `${name} agent`, is_active: true, first_message: 'Hello',
    llm_config: { provider: 'openai', model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You sell things.' }] },
    metadata: { team: 'sales' },
  });
  let numberId = '';
  if (opts.number !== false) numberId = addNumber(store, org.id, agent.id).id;
  return { id: org.id, agentId: agent.id, numberId };
}

export function addNumber(store: Store, orgId: string, agentId: string | null) {
  const trunk = store.trunks.create(orgId, {
    name: 'carrier', provider: null, address: '127.0.0.1', port: 5060, transport: 'udp', auth_username: null, auth_password: null,
    inbound_addresses: [], outbound_number: null, outbound_proxy: null, register: false, send_pai: false, is_active: true,
  });
  return store.numbers.create(orgId, {
    phone_number: `+3120${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`, name: null, agent_id: agentId,
    transfer_trunk_id: trunk.id, workflow_id: null, is_active: true,
  });
}

export function addCampaign(store: Store, org: Org, leads: number | string[], v: Partial<CampaignInput> = {}): CampaignRecord {
  const c = store.campaigns.create(org.id, {
    name: 'Campaign', agent_id: org.agentId, status: 'scheduled', system_message_template: null,
    schedule_start_time: '00:00:00', schedule_end_time: '23:59:59', timezone: 'Europe/Amsterdam', schedule_days: null, max_concurrency: null,
    ...v,
  });
  const phones = typeof leads === 'number'
    ? Array.from({ length: leads }, () => `+3161${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`)
    : leads;
  for (const p of phones) store.campaigns.addLead(c.id, { phone_number: p, variables: { name: `N${p.slice(-4)}` } });
  return store.campaigns.get(org.id, c.id) as CampaignRecord;
}

export interface Placed { callId: string; orgId: string; plan: OutboundPlan; at: number; campaignId: string; leadId: string; attempt: number }

/**
 * Stands in for CallService: placeOutbound writes a `connecting` call record (with campaign and
 * lead ids, as the real one does) and returns its id; the test ends calls with `end()`. Tracks the
 * peak of simultaneous calls in total, per organization and per campaign.
 */
export class FakePort implements DialerPort {
  readonly placed: Placed[] = [];
  readonly live = new Map<string, Placed>();
  peak = { engine: 0, org: new Map<string, number>(), campaign: new Map<string, number>() };
  /** When set, placeOutbound throws this instead. */
  failWith: Error | null = null;
  constructor(readonly store: Store, readonly now: () => number) {}

  async placeOutbound(orgId: string, plan: OutboundPlan): Promise<{ callId: string }> {
    if (this.failWith) throw this.failWith;
    const md = plan.metadata ?? {};
    const id = newCallId(plan.destination);
    this.store.calls.insert(orgId, {
      id, direction: 'outbound', status: 'connecting', caller_phone: plan.destination, agent_id: plan.assistantId, number_id: plan.numberId,
      campaign_id: md.campaign_id as string, lead_id: md.lead_id as string, metadata: md, assistant_config: plan.assistant,
    });
    const p: Placed = { callId: id, orgId, plan, at: this.now(), campaignId: md.campaign_id as string, leadId: md.lead_id as string, attempt: md.campaign_attempt as number };
    this.placed.push(p);
    this.live.set(id, p);
    const count = (f: (x: Placed) => boolean) => [...this.live.values()].filter(f).length;
    this.peak.engine = Math.max(this.peak.engine, this.live.size);
    this.peak.org.set(orgId, Math.max(this.peak.org.get(orgId) ?? 0, count((x) => x.orgId === orgId)));
    this.peak.campaign.set(p.campaignId, Math.max(this.peak.campaign.get(p.campaignId) ?? 0, count((x) => x.campaignId === p.campaignId)));
    return { callId: id };
  }

  /** Ends a call the way the call runtime records it. */
  end(callId: string, endReason: string, messages: CallMessage[] | null = null): void {
    const answered = !['no_answer', 'busy', 'failed_to_connect', 'rejected', 'error'].includes(endReason);
    this.store.calls.update(callId, { status: answered ? 'ended' : 'failed', end_reason: endReason, messages, ended_at: new Date(this.now()).toISOString() });
    this.live.delete(callId);
  }

  endAll(reason: (p: Placed) => string): void {
    for (const p of [...this.live.values()]) this.end(p.callId, reason(p));
  }
}

/** A manual clock (epoch ms). */
export class Clock {
  constructor(public t: number) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}
