/**
 * The outbound campaign dialler (spec §8.4). One loop, every `intervalMs`:
 *
 * 1. Reconcile: every open attempt (table campaign_attempts) is matched with its call record;
 *    ended calls decide the lead (outcome.ts). Attempts a crash left `dialling` adopt the call
 *    the engine created for the lead, or are voided (the call was never placed).
 * 2. Complete: a `scheduled` campaign with leads, none `pending` or `calling`, becomes `completed`.
 * 3. Dispatch: for each `scheduled` campaign whose window is open (window.ts) and that has a
 *    caller-ID number and an active assistant, due leads are dialled, one per campaign per round
 *    (round-robin, starting after the campaign served last), within the campaign, organization
 *    and engine limits. Each attempt is written to SQLite before `placeOutbound` is called.
 *
 * All state lives in the store, so a restart resumes where the last process stopped. The dialler
 * learns outcomes only from call records (durable; there is no callback to lose).
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { OutboundPlan } from '../api/deps.js';
import type { Store } from '../store/index.js';
import type { AttemptRecord, CampaignRecord, LeadRecord, LeadStatus } from '../store/repos/campaigns.js';
import { buildPlan } from './plan.js';
import { outcomeOf, verdictOf, type AttemptOutcome } from './outcome.js';
import { isWindowOpen, WindowError } from './window.js';

/** The narrow part of the telephony runtime the dialler needs (CallService implements it). */
export interface DialerPort {
  placeOutbound(orgId: string, plan: OutboundPlan): Promise<{ callId: string }>;
}

export interface DialerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DialerLimits {
  /** Simultaneous campaign calls in the whole engine. Default 20. */
  readonly engine: number;
  /** Simultaneous campaign calls per organization. Default 10. */
  readonly org: number;
  /** Per campaign when its `max_concurrency` is null. Default 1 (spec §8.4). */
  readonly campaignDefault: number;
}

export interface DialerOptions {
  readonly store: Store;
  readonly telephony: DialerPort;
  readonly log?: Logger;
  /** Epoch ms; window, retry and attempt times all come from here. Default Date.now. */
  readonly now?: () => number;
  readonly timers?: DialerTimers;
  /** Loop period. Default 5000 (spec §8.4). */
  readonly intervalMs?: number;
  readonly limits?: Partial<DialerLimits>;
  /** Attempts per lead before it is `failed`. Default 3. */
  readonly maxAttempts?: number;
  /** Delay before a retry. Default 60 min. */
  readonly retryIntervalMs?: number;
  /** Delay before a lead whose placing threw (engine draining, provider key missing) is tried again. Default 60 s. */
  readonly placeErrorBackoffMs?: number;
  /** An attempt whose call record does not exist after this long is `lost` (retried). Default 15 min. */
  readonly lostAfterMs?: number;
  /** Called after each loop (tests and metrics). */
  readonly onTick?: (stats: TickStats) => void;
}

export interface TickStats {
  /** Attempts whose outcome was decided in this loop. */
  readonly resolved: number;
  /** Calls placed in this loop. */
  readonly placed: number;
  /** Campaigns that completed in this loop. */
  readonly completed: number;
  /** Open attempts (dialling or live) after the loop. */
  readonly live: number;
}

export const DIALER_DEFAULTS = {
  intervalMs: 5000,
  limits: { engine: 20, org: 10, campaignDefault: 1 } satisfies DialerLimits,
  maxAttempts: 3,
  retryIntervalMs: 60 * 60_000,
  placeErrorBackoffMs: 60_000,
  lostAfterMs: 15 * 60_000,
} as const;

const realTimers: DialerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const iso = (ms: number): string => new Date(ms).toISOString();
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

interface Ready {
  campaign: CampaignRecord;
  assistant: NonNullable<ReturnType<Store['assistants']['get']>>;
  numberId: string;
  capacity: number;
  leads: LeadRecord[];
}

export class Dialer {
  readonly #o: DialerOptions;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #timers: DialerTimers;
  readonly #limits: DialerLimits;
  readonly #maxAttempts: number;
  readonly #retryMs: number;
  /** Attempts whose placeOutbound is in flight in this process (reconcile leaves them alone). */
  readonly #placing = new Set<string>();
  #lastServed: string | null = null;
  #timer: unknown = null;
  #running: Promise<void> | null = null;
  #started = false;
  #closed = false;

  constructor(o: DialerOptions) {
    this.#o = o;
    this.#store = o.store;
    this.#log = o.log ?? pino({ level: 'silent' });
    this.#now = o.now ?? Date.now;
    this.#timers = o.timers ?? realTimers;
    this.#limits = { ...DIALER_DEFAULTS.limits, ...o.limits };
    this.#maxAttempts = o.maxAttempts ?? DIALER_DEFAULTS.maxAttempts;
    this.#retryMs = o.retryIntervalMs ?? DIALER_DEFAULTS.retryIntervalMs;
  }

  get limits(): DialerLimits {
    return this.#limits;
  }

  /** Runs the first loop now (which also resolves what a crash left open), then every intervalMs. */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    await this.tick();
    this.#schedule();
  }

  /** Stops the loop and waits for the running one. Live calls are not touched (they belong to the call runtime). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      void this.tick().finally(() => this.#schedule());
    }, this.#o.intervalMs ?? DIALER_DEFAULTS.intervalMs);
  }

  /** One loop: reconcile, complete, dispatch. Loops never overlap; a call while one runs waits for it. */
  async tick(): Promise<TickStats> {
    while (this.#running) await this.#running;
    let stats: TickStats = { resolved: 0, placed: 0, completed: 0, live: 0 };
    const run = (async () => {
      try {
        stats = await this.#loop();
      } catch (e) {
        this.#log.error({ err: e }, 'dialler loop failed');
      }
    })();
    this.#running = run;
    try {
      await run;
    } finally {
      this.#running = null;
    }
    this.#o.onTick?.(stats);
    return stats;
  }

  async #loop(): Promise<TickStats> {
    const resolved = this.#reconcile();
    let completed = 0;
    const scheduled = this.#store.campaigns.listByStatus('scheduled');
    for (const c of scheduled) {
      if (this.#store.campaigns.completeIfDone(c.id)) {
        completed++;
        this.#log.info({ campaignId: c.id }, 'campaign completed');
      }
    }
    const placed = this.#closed ? 0 : await this.#dispatch();
    const live = this.#store.campaigns.liveCounts().reduce((a, r) => a + r.live, 0);
    return { resolved, placed, completed, live };
  }

  // ---- 1. reconcile ------------------------------------------------------------------------

  #reconcile(): number {
    const repo = this.#store.campaigns;
    let resolved = 0;
    for (const a of repo.openAttempts()) {
      if (this.#placing.has(a.id)) continue;
      let callId = a.call_id;
      if (a.state === 'dialling') {
        // Left by a crash between recording the attempt and learning its call id.
        const found = repo.unclaimedCallOfLead(a.lead_id);
        if (!found) {
          repo.voidAttempt(a.id, 'engine restarted before the call was placed', iso(this.#now()), iso(this.#now()));
          this.#log.warn({ attemptId: a.id, leadId: a.lead_id }, 'attempt left unplaced by a restart: the lead gets it back');
          continue;
        }
        repo.attemptPlaced(a.id, found);
        callId = found;
      }
      const call = callId === null ? undefined : this.#store.calls.getById(callId);
      if (!call) {
        if (this.#now() - Date.parse(a.started_at) >= (this.#o.lostAfterMs ?? DIALER_DEFAULTS.lostAfterMs)) {
          this.#finish(a, 'lost', 'the call record of this attempt does not exist');
          resolved++;
        }
        continue;
      }
      if (call.status !== 'ended' && call.status !== 'failed') continue;
      this.#finish(a, outcomeOf(call), call.error);
      resolved++;
    }
    return resolved;
  }

  #finish(a: AttemptRecord, outcome: AttemptOutcome, error: string | null): void {
    const repo = this.#store.campaigns;
    const status = repo.statusOf(a.campaign_id);
    const verdict = verdictOf(outcome);
    let leadStatus: LeadStatus;
    let next: string | null = null;
    if (verdict === 'completed') leadStatus = 'completed';
    else if (verdict === 'failed' || a.attempt >= this.#maxAttempts || status === 'cancelled') leadStatus = 'failed';
    else {
      leadStatus = 'pending';
      next = iso(this.#now() + this.#retryMs);
    }
    repo.finishAttempt(a.id, { outcome, leadStatus, nextAttemptAt: next, error, at: iso(this.#now()) });
    this.#log.info({ campaignId: a.campaign_id, leadId: a.lead_id, attempt: a.attempt, outcome, leadStatus, retryAt: next }, 'campaign attempt ended');
  }

  // ---- 3. dispatch -------------------------------------------------------------------------

  async #dispatch(): Promise<number> {
    const repo = this.#store.campaigns;
    const nowMs = this.#now();
    const counts = repo.liveCounts();
    let engineLive = counts.reduce((a, r) => a + r.live, 0);
    const orgLive = new Map<string, number>();
    const campaignLive = new Map<string, number>();
    for (const r of counts) {
      orgLive.set(r.org_id, (orgLive.get(r.org_id) ?? 0) + r.live);
      campaignLive.set(r.campaign_id, r.live);
    }
    if (engineLive >= this.#limits.engine) return 0;

    const ready: Ready[] = [];
    for (const c of repo.listByStatus('scheduled')) {
      const r = this.#ready(c, nowMs, campaignLive.get(c.id) ?? 0);
      if (r) ready.push(r);
    }
    if (!ready.length) return 0;
    // Round-robin: start after the campaign that got the last slot.
    const at = this.#lastServed === null ? -1 : ready.findIndex((r) => r.campaign.id === this.#lastServed);
    const order = [...ready.slice(at + 1), ...ready.slice(0, at + 1)];

    const picks: { r: Ready; lead: LeadRecord }[] = [];
    let progress = true;
    while (progress && engineLive < this.#limits.engine) {
      progress = false;
      for (const r of order) {
        if (engineLive >= this.#limits.engine) break;
        const org = r.campaign.org_id;
        if ((orgLive.get(org) ?? 0) >= this.#limits.org || r.capacity <= 0) continue;
        const lead = r.leads.shift();
        if (!lead) continue;
        picks.push({ r, lead });
        r.capacity--;
        engineLive++;
        orgLive.set(org, (orgLive.get(org) ?? 0) + 1);
        this.#lastServed = r.campaign.id;
        progress = true;
      }
    }
    const results = await Promise.all(picks.map(({ r, lead }) => this.#place(r, lead)));
    return results.filter(Boolean).length;
  }

  /** A scheduled campaign that may dial now, with its due leads, or null (and why, in last_error). */
  #ready(c: CampaignRecord, nowMs: number, live: number): Ready | null {
    const repo = this.#store.campaigns;
    try {
      if (!isWindowOpen(c, nowMs)) return null;
    } catch (e) {
      if (e instanceof WindowError) {
        repo.setLastError(c.id, `calling window: ${e.message}`);
        return null;
      }
      throw e;
    }
    const capacity = Math.min(c.max_concurrency ?? this.#limits.campaignDefault, this.#limits.org, this.#limits.engine) - live;
    if (capacity <= 0) return null;
    const leads = repo.dueLeads(c.id, iso(nowMs), capacity);
    if (!leads.length) return null;
    const assistant = this.#store.assistants.get(c.org_id, c.agent_id);
    if (!assistant || !assistant.is_active) {
      repo.setLastError(c.id, assistant ? 'The campaign assistant is inactive; no calls are placed' : 'The campaign assistant no longer exists; no calls are placed');
      return null;
    }
    const number = this.#store.numbers.callerIdFor(c.org_id, c.agent_id);
    if (!number) {
      repo.setLastError(c.id, 'No active number with an active SIP trunk to call from: assign one to the assistant or give a number a transfer_trunk_id');
      return null;
    }
    if (c.last_error !== null) repo.setLastError(c.id, null);
    return { campaign: c, assistant, numberId: number.id, capacity, leads };
  }

  async #place(r: Ready, lead: LeadRecord): Promise<boolean> {
    const repo = this.#store.campaigns;
    const nowMs = this.#now();
    const attempt = repo.claimLead(r.campaign.id, lead.id, iso(nowMs));
    if (!attempt) return false;
    this.#placing.add(attempt.id);
    try {
      const plan = buildPlan({ campaign: r.campaign, lead, attempt: attempt.attempt, assistant: r.assistant, numberId: r.numberId });
      let callId: string;
      try {
        ({ callId } = await this.#o.telephony.placeOutbound(r.campaign.org_id, plan));
      } catch (e) {
        const backoff = this.#o.placeErrorBackoffMs ?? DIALER_DEFAULTS.placeErrorBackoffMs;
        repo.voidAttempt(attempt.id, errText(e), iso(this.#now()), iso(this.#now() + backoff));
        repo.setLastError(r.campaign.id, `Placing a call failed: ${errText(e)}`);
        this.#log.warn({ campaignId: r.campaign.id, leadId: lead.id, err: e }, 'placing a campaign call failed; the lead is tried again later');
        return false;
      }
      repo.attemptPlaced(attempt.id, callId);
      this.#log.info({ campaignId: r.campaign.id, leadId: lead.id, attempt: attempt.attempt, callId }, 'campaign call placed');
      return true;
    } finally {
      this.#placing.delete(attempt.id);
    }
  }
}
