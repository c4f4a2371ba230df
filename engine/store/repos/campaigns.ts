import type { Db } from '../db.js';
import { now, uuid } from '../ids.js';
import { j, n, s, type Row } from './util.js';

export type CampaignStatus = 'draft' | 'scheduled' | 'paused' | 'completed' | 'cancelled';
export type LeadStatus = 'pending' | 'calling' | 'completed' | 'failed' | 'skipped';

export interface CampaignRecord {
  id: string;
  org_id: string;
  name: string;
  agent_id: string;
  status: CampaignStatus;
  system_message_template: string | null;
  schedule_start_time: string;
  schedule_end_time: string;
  timezone: string;
  /** ISO weekdays 1 (Mon) .. 7 (Sun); null = every day (extension). */
  schedule_days: number[] | null;
  /** Concurrent calls for this campaign (extension; engine default when null). */
  max_concurrency: number | null;
  last_error: string | null;
  total_leads: number;
  completed_leads: number;
  failed_leads: number;
  lead_counts: Record<LeadStatus, number>;
  created_at: string;
  updated_at: string;
}

export type CampaignInput = Pick<CampaignRecord, 'name' | 'agent_id' | 'status' | 'system_message_template' | 'schedule_start_time'
  | 'schedule_end_time' | 'timezone' | 'schedule_days' | 'max_concurrency'>;

export interface LeadRecord {
  id: string;
  campaign_id: string;
  phone_number: string;
  variables: Record<string, string>;
  status: LeadStatus;
  call_id: string | null;
  attempts: number;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  last_outcome: string | null;
  created_at: string;
  updated_at: string;
}

const COUNTS = `(SELECT json_object(
    'total', count(*),
    'pending', sum(status = 'pending'), 'calling', sum(status = 'calling'), 'completed', sum(status = 'completed'),
    'failed', sum(status = 'failed'), 'skipped', sum(status = 'skipped'))
  FROM campaign_leads l WHERE l.campaign_id = c.id) AS counts`;

export class CampaignsRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }
  #map = (r: Row): CampaignRecord => {
    const c = j<Record<string, number | null>>(r.counts, {});
    const lead_counts = {
      pending: c.pending ?? 0, calling: c.calling ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0, skipped: c.skipped ?? 0,
    };
    return {
      id: r.id as string,
      org_id: r.org_id as string,
      name: r.name as string,
      agent_id: r.agent_id as string,
      status: r.status as CampaignStatus,
      system_message_template: s(r.system_message_template),
      schedule_start_time: r.schedule_start_time as string,
      schedule_end_time: r.schedule_end_time as string,
      timezone: r.timezone as string,
      schedule_days: j<number[] | null>(r.schedule_days, null),
      max_concurrency: n(r.max_concurrency),
      last_error: s(r.last_error),
      total_leads: c.total ?? 0,
      completed_leads: lead_counts.completed,
      failed_leads: lead_counts.failed,
      lead_counts,
      created_at: r.created_at as string,
      updated_at: r.updated_at as string,
    };
  };
  list(orgId: string): CampaignRecord[] {
    return (this.#db.prepare(`SELECT c.*, ${COUNTS} FROM campaigns c WHERE c.org_id = ? ORDER BY c.created_at DESC, c.rowid DESC`).all(orgId) as Row[]).map(this.#map);
  }
  listByStatus(status: CampaignStatus): CampaignRecord[] {
    return (this.#db.prepare(`SELECT c.*, ${COUNTS} FROM campaigns c WHERE c.status = ? ORDER BY c.created_at`).all(status) as Row[]).map(this.#map);
  }
  get(orgId: string, id: string): CampaignRecord | undefined {
    const r = this.#db.prepare(`SELECT c.*, ${COUNTS} FROM campaigns c WHERE c.org_id = ? AND c.id = ?`).get(orgId, id) as Row | undefined;
    return r && this.#map(r);
  }
  create(orgId: string, v: CampaignInput): CampaignRecord {
    const id = uuid();
    const t = now();
    this.#db.prepare(`INSERT INTO campaigns (id, org_id, name, agent_id, status, system_message_template, schedule_start_time, schedule_end_time,
      timezone, schedule_days, max_concurrency, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, orgId, v.name, v.agent_id, v.status, v.system_message_template, v.schedule_start_time, v.schedule_end_time, v.timezone,
        v.schedule_days === null ? null : JSON.stringify(v.schedule_days), v.max_concurrency, t, t);
    return this.get(orgId, id) as CampaignRecord;
  }
  update(orgId: string, id: string, v: CampaignInput): CampaignRecord | undefined {
    this.#db.prepare(`UPDATE campaigns SET name = ?, agent_id = ?, status = ?, system_message_template = ?, schedule_start_time = ?,
      schedule_end_time = ?, timezone = ?, schedule_days = ?, max_concurrency = ?, updated_at = ? WHERE org_id = ? AND id = ?`)
      .run(v.name, v.agent_id, v.status, v.system_message_template, v.schedule_start_time, v.schedule_end_time, v.timezone,
        v.schedule_days === null ? null : JSON.stringify(v.schedule_days), v.max_concurrency, now(), orgId, id);
    return this.get(orgId, id);
  }
  setStatus(id: string, status: CampaignStatus, lastError: string | null = null): void {
    this.#db.prepare('UPDATE campaigns SET status = ?, last_error = ?, updated_at = ? WHERE id = ?').run(status, lastError, now(), id);
  }
  delete(orgId: string, id: string): boolean {
    return this.#db.prepare('DELETE FROM campaigns WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
  }

  // Leads
  #lead = (r: Row): LeadRecord => ({
    id: r.id as string,
    campaign_id: r.campaign_id as string,
    phone_number: r.phone_number as string,
    variables: j<Record<string, string>>(r.variables, {}),
    status: r.status as LeadStatus,
    call_id: s(r.call_id),
    attempts: (r.attempts as number) ?? 0,
    last_attempt_at: s(r.last_attempt_at),
    next_attempt_at: s(r.next_attempt_at),
    last_outcome: s(r.last_outcome),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });
  leads(campaignId: string): LeadRecord[] {
    return (this.#db.prepare('SELECT * FROM campaign_leads WHERE campaign_id = ? ORDER BY created_at, rowid').all(campaignId) as Row[]).map(this.#lead);
  }
  lead(campaignId: string, leadId: string): LeadRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM campaign_leads WHERE campaign_id = ? AND id = ?').get(campaignId, leadId) as Row | undefined;
    return r && this.#lead(r);
  }
  hasLeadNumber(campaignId: string, phone: string): boolean {
    return !!this.#db.prepare('SELECT 1 FROM campaign_leads WHERE campaign_id = ? AND phone_number = ?').get(campaignId, phone);
  }
  addLead(campaignId: string, v: { phone_number: string; variables: Record<string, string> }): LeadRecord {
    const id = uuid();
    const t = now();
    this.#db.prepare("INSERT INTO campaign_leads (id, campaign_id, phone_number, variables, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)")
      .run(id, campaignId, v.phone_number, JSON.stringify(v.variables), t, t);
    return this.lead(campaignId, id) as LeadRecord;
  }
  updateLead(leadId: string, patch: Partial<Pick<LeadRecord, 'status' | 'call_id' | 'attempts' | 'last_attempt_at' | 'next_attempt_at' | 'last_outcome'>>): void {
    const keys = Object.keys(patch) as (keyof typeof patch)[];
    if (!keys.length) return;
    this.#db.prepare(`UPDATE campaign_leads SET ${keys.map((k) => `${k} = ?`).join(', ')}, updated_at = ? WHERE id = ?`)
      .run(...keys.map((k) => patch[k] ?? null), now(), leadId);
  }
  /** Whether any lead of the campaign has been dialled (the scheduled -> draft rule). */
  attemptMade(campaignId: string): boolean {
    return !!this.#db.prepare("SELECT 1 FROM campaign_leads WHERE campaign_id = ? AND (attempts > 0 OR last_attempt_at IS NOT NULL OR status IN ('calling', 'completed', 'failed')) LIMIT 1").get(campaignId);
  }
  /** Cancelling: every lead still `pending` becomes `skipped` (never dialled). Returns how many. */
  skipPendingLeads(campaignId: string): number {
    return this.#db.prepare("UPDATE campaign_leads SET status = 'skipped', updated_at = ? WHERE campaign_id = ? AND status = 'pending'").run(now(), campaignId).changes;
  }
  deleteLead(campaignId: string, leadId: string): boolean {
    return this.#db.prepare('DELETE FROM campaign_leads WHERE campaign_id = ? AND id = ?').run(campaignId, leadId).changes > 0;
  }
  /** Runs fn in one SQLite transaction (bulk lead insert with a campaign). */
  tx<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }
}
