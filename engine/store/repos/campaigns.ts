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

export type AttemptState = 'dialling' | 'live' | 'done' | 'void';

/** One dial of a lead by the dialler (table campaign_attempts, migration 050). */
export interface AttemptRecord {
  id: string;
  campaign_id: string;
  lead_id: string;
  org_id: string;
  /** 1-based attempt number of the lead. */
  attempt: number;
  state: AttemptState;
  call_id: string | null;
  outcome: string | null;
  /** The lead status the outcome led to (done attempts). */
  lead_status: LeadStatus | null;
  error: string | null;
  started_at: string;
  ended_at: string | null;
  created_at: string;
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

  // Dialler (engine/campaigns). Times passed in come from the dialler's clock.
  #attempt = (r: Row): AttemptRecord => ({
    id: r.id as string,
    campaign_id: r.campaign_id as string,
    lead_id: r.lead_id as string,
    org_id: r.org_id as string,
    attempt: r.attempt as number,
    state: r.state as AttemptState,
    call_id: s(r.call_id),
    outcome: s(r.outcome),
    lead_status: s(r.lead_status) as LeadStatus | null,
    error: s(r.error),
    started_at: r.started_at as string,
    ended_at: s(r.ended_at),
    created_at: r.created_at as string,
  });
  statusOf(id: string): CampaignStatus | undefined {
    return (this.#db.prepare('SELECT status FROM campaigns WHERE id = ?').get(id) as { status: CampaignStatus } | undefined)?.status;
  }
  /** Sets `last_error` (the dialler's reason for not dialling) when it changed. */
  setLastError(id: string, lastError: string | null): void {
    this.#db.prepare('UPDATE campaigns SET last_error = ?, updated_at = ? WHERE id = ? AND last_error IS NOT ?').run(lastError, now(), id, lastError);
  }
  /** Pending leads whose retry time has come (`next_attempt_at <= at`), oldest first. */
  dueLeads(campaignId: string, at: string, limit: number): LeadRecord[] {
    return (this.#db.prepare(`SELECT * FROM campaign_leads WHERE campaign_id = ? AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
      ORDER BY created_at, rowid LIMIT ?`).all(campaignId, at, limit) as Row[]).map(this.#lead);
  }
  /**
   * Records an attempt BEFORE it is dialled, atomically: the campaign must still be `scheduled`
   * and the lead still `pending` and due. The lead becomes `calling` with attempts + 1. Returns
   * undefined when either changed meanwhile.
   */
  claimLead(campaignId: string, leadId: string, at: string): AttemptRecord | undefined {
    return this.#db.transaction(() => {
      const c = this.#db.prepare("SELECT org_id FROM campaigns WHERE id = ? AND status = 'scheduled'").get(campaignId) as { org_id: string } | undefined;
      if (!c) return undefined;
      const t = now();
      const changed = this.#db.prepare(`UPDATE campaign_leads SET status = 'calling', attempts = attempts + 1, last_attempt_at = ?, call_id = NULL, updated_at = ?
        WHERE id = ? AND campaign_id = ? AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)`).run(at, t, leadId, campaignId, at).changes;
      if (!changed) return undefined;
      const { attempts } = this.#db.prepare('SELECT attempts FROM campaign_leads WHERE id = ?').get(leadId) as { attempts: number };
      const id = uuid();
      this.#db.prepare(`INSERT INTO campaign_attempts (id, campaign_id, lead_id, org_id, attempt, state, started_at, created_at)
        VALUES (?, ?, ?, ?, ?, 'dialling', ?, ?)`).run(id, campaignId, leadId, c.org_id, attempts, at, t);
      return this.attempt(id);
    })();
  }
  attempt(id: string): AttemptRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM campaign_attempts WHERE id = ?').get(id) as Row | undefined;
    return r && this.#attempt(r);
  }
  /** Every attempt of a campaign (void ones included), in dial order. */
  attempts(campaignId: string): AttemptRecord[] {
    return (this.#db.prepare('SELECT * FROM campaign_attempts WHERE campaign_id = ? ORDER BY started_at, rowid').all(campaignId) as Row[]).map(this.#attempt);
  }
  /** Attempts still `dialling` or `live`, of every campaign. */
  openAttempts(): AttemptRecord[] {
    return (this.#db.prepare("SELECT * FROM campaign_attempts WHERE state IN ('dialling', 'live') ORDER BY started_at, rowid").all() as Row[]).map(this.#attempt);
  }
  /** The call id is known: the attempt is live and the lead points at its call. */
  attemptPlaced(attemptId: string, callId: string): void {
    this.#db.transaction(() => {
      this.#db.prepare("UPDATE campaign_attempts SET state = 'live', call_id = ? WHERE id = ?").run(callId, attemptId);
      this.#db.prepare('UPDATE campaign_leads SET call_id = ?, updated_at = ? WHERE id = (SELECT lead_id FROM campaign_attempts WHERE id = ?)').run(callId, now(), attemptId);
    })();
  }
  /**
   * The attempt never reached the telephony layer: it is voided and the lead gets it back
   * (`pending`, attempts - 1, next try at `retryAt`; the previous last_attempt_at is lost).
   */
  voidAttempt(attemptId: string, error: string, at: string, retryAt: string): void {
    this.#db.transaction(() => {
      const a = this.attempt(attemptId);
      if (!a || (a.state !== 'dialling' && a.state !== 'live')) return;
      this.#db.prepare("UPDATE campaign_attempts SET state = 'void', error = ?, ended_at = ? WHERE id = ?").run(error, at, attemptId);
      this.#db.prepare(`UPDATE campaign_leads SET status = 'pending', attempts = max(attempts - 1, 0), call_id = NULL, next_attempt_at = ?,
        last_attempt_at = CASE WHEN attempts - 1 <= 0 THEN NULL ELSE last_attempt_at END, updated_at = ? WHERE id = ? AND status = 'calling'`)
        .run(retryAt, now(), a.lead_id);
    })();
  }
  /** The attempt's outcome is known: attempt done, lead moved to `leadStatus`. */
  finishAttempt(attemptId: string, r: { outcome: string; leadStatus: LeadStatus; nextAttemptAt: string | null; error: string | null; at: string }): void {
    this.#db.transaction(() => {
      const a = this.attempt(attemptId);
      if (!a || (a.state !== 'dialling' && a.state !== 'live')) return;
      this.#db.prepare("UPDATE campaign_attempts SET state = 'done', outcome = ?, lead_status = ?, error = ?, ended_at = ? WHERE id = ?")
        .run(r.outcome, r.leadStatus, r.error, r.at, attemptId);
      this.#db.prepare("UPDATE campaign_leads SET status = ?, last_outcome = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = 'calling'")
        .run(r.leadStatus, r.outcome, r.nextAttemptAt, now(), a.lead_id);
    })();
  }
  /** A call of this lead that no attempt has claimed (what a crash between placing and recording the call id leaves). */
  unclaimedCallOfLead(leadId: string): string | undefined {
    const r = this.#db.prepare(`SELECT id FROM calls WHERE lead_id = ? AND id NOT IN (SELECT call_id FROM campaign_attempts WHERE lead_id = ? AND call_id IS NOT NULL)
      ORDER BY created_at DESC, rowid DESC LIMIT 1`).get(leadId, leadId) as { id: string } | undefined;
    return r?.id;
  }
  /** Open attempts per campaign (with the campaign's organization): what the concurrency limits count. */
  liveCounts(): { campaign_id: string; org_id: string; live: number }[] {
    return this.#db.prepare("SELECT campaign_id, org_id, count(*) AS live FROM campaign_attempts WHERE state IN ('dialling', 'live') GROUP BY campaign_id, org_id")
      .all() as { campaign_id: string; org_id: string; live: number }[];
  }
  /**
   * The engine's `scheduled -> completed`: only when the campaign has leads and none is
   * `pending` or `calling` (atomic check and set). Returns whether it completed now.
   */
  completeIfDone(campaignId: string): boolean {
    return this.#db.prepare(`UPDATE campaigns SET status = 'completed', last_error = NULL, updated_at = ? WHERE id = ? AND status = 'scheduled'
      AND EXISTS (SELECT 1 FROM campaign_leads WHERE campaign_id = campaigns.id)
      AND NOT EXISTS (SELECT 1 FROM campaign_leads WHERE campaign_id = campaigns.id AND status IN ('pending', 'calling'))`).run(now(), campaignId).changes > 0;
  }
  /** Runs fn in one SQLite transaction (bulk lead insert with a campaign). */
  tx<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }
}
