import type { Db } from '../db.js';
import { now } from '../ids.js';
import { j, n, s, type JsonObject, type Row } from './util.js';

export type CallStatus = 'connecting' | 'in-progress' | 'ended' | 'failed';
export type CallDirection = 'inbound' | 'outbound' | 'web';
export interface CallMessage { role: 'system' | 'user' | 'assistant'; content: string }

export interface CallRecord {
  id: string;
  org_id: string;
  direction: CallDirection | null;
  status: CallStatus;
  caller_phone: string | null;
  assistant_phone: string | null;
  agent_id: string | null;
  number_id: string | null;
  agent_name: string | null;
  business_name: string | null;
  phone_number: string | null;
  end_reason: string | null;
  error: string | null;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  summary: string | null;
  analysis_result: JsonObject | null;
  messages: CallMessage[] | null;
  metadata: JsonObject | null;
  /** The fully resolved assistant for this call (secrets removed). */
  assistant_config: JsonObject | null;
  room_name: string | null;
  recording_path: string | null;
  /** Per-turn latency breakdown (extension field `latency` in the API). */
  timings: JsonObject | null;
  sip_call_id: string | null;
  campaign_id: string | null;
  lead_id: string | null;
  created_at: string;
  updated_at: string;
}

export type CallInsert = Pick<CallRecord, 'id' | 'direction' | 'status'> & Partial<Omit<CallRecord, 'id' | 'org_id' | 'created_at' | 'updated_at'>>;
export type CallPatch = Partial<Omit<CallRecord, 'id' | 'org_id' | 'created_at' | 'updated_at'>>;

const JSON_COLS = new Set(['analysis_result', 'messages', 'metadata', 'assistant_config', 'timings']);
const COLS = ['direction', 'status', 'caller_phone', 'assistant_phone', 'agent_id', 'number_id', 'agent_name', 'business_name',
  'phone_number', 'end_reason', 'error', 'started_at', 'ended_at', 'duration_seconds', 'summary', 'analysis_result', 'messages',
  'metadata', 'assistant_config', 'room_name', 'recording_path', 'timings', 'sip_call_id', 'campaign_id', 'lead_id'] as const;

const enc = (k: string, v: unknown): unknown => (v === undefined ? null : JSON_COLS.has(k) && v !== null ? JSON.stringify(v) : v);

export interface CallFilter { status?: CallStatus; start_date?: string; end_date?: string; limit: number; offset: number }

export class CallsRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }
  #map = (r: Row): CallRecord => ({
    id: r.id as string,
    org_id: r.org_id as string,
    direction: s(r.direction) as CallDirection | null,
    status: r.status as CallStatus,
    caller_phone: s(r.caller_phone),
    assistant_phone: s(r.assistant_phone),
    agent_id: s(r.agent_id),
    number_id: s(r.number_id),
    agent_name: s(r.agent_name),
    business_name: s(r.business_name),
    phone_number: s(r.phone_number),
    end_reason: s(r.end_reason),
    error: s(r.error),
    started_at: s(r.started_at),
    ended_at: s(r.ended_at),
    duration_seconds: n(r.duration_seconds),
    summary: s(r.summary),
    analysis_result: j<JsonObject | null>(r.analysis_result, null),
    messages: j<CallMessage[] | null>(r.messages, null),
    metadata: j<JsonObject | null>(r.metadata, null),
    assistant_config: j<JsonObject | null>(r.assistant_config, null),
    room_name: s(r.room_name),
    recording_path: s(r.recording_path),
    timings: j<JsonObject | null>(r.timings, null),
    sip_call_id: s(r.sip_call_id),
    campaign_id: s(r.campaign_id),
    lead_id: s(r.lead_id),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });

  insert(orgId: string, c: CallInsert): CallRecord {
    const t = now();
    const vals = COLS.map((k) => enc(k, (c as Record<string, unknown>)[k]));
    this.#db.prepare(`INSERT INTO calls (id, org_id, ${COLS.join(', ')}, created_at, updated_at) VALUES (?, ?, ${COLS.map(() => '?').join(', ')}, ?, ?)`)
      .run(c.id, orgId, ...vals, t, t);
    return this.getById(c.id) as CallRecord;
  }

  update(id: string, patch: CallPatch): CallRecord | undefined {
    const keys = COLS.filter((k) => k in patch);
    if (keys.length) {
      this.#db.prepare(`UPDATE calls SET ${keys.map((k) => `${k} = ?`).join(', ')}, updated_at = ? WHERE id = ?`)
        .run(...keys.map((k) => enc(k, (patch as Record<string, unknown>)[k])), now(), id);
    }
    return this.getById(id);
  }

  get(orgId: string, id: string): CallRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM calls WHERE org_id = ? AND id = ?').get(orgId, id) as Row | undefined;
    return r && this.#map(r);
  }

  getById(id: string): CallRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM calls WHERE id = ?').get(id) as Row | undefined;
    return r && this.#map(r);
  }

  /** Calls left live by a crash (status connecting / in-progress). */
  listLive(): CallRecord[] {
    return (this.#db.prepare("SELECT * FROM calls WHERE status IN ('connecting','in-progress')").all() as Row[]).map(this.#map);
  }

  list(orgId: string, f: CallFilter): { rows: CallRecord[]; total: number } {
    const where = ['org_id = ?'];
    const args: unknown[] = [orgId];
    if (f.status) { where.push('status = ?'); args.push(f.status); }
    if (f.start_date) { where.push('created_at >= ?'); args.push(f.start_date); }
    if (f.end_date) { where.push('created_at <= ?'); args.push(f.end_date); }
    const w = where.join(' AND ');
    const total = (this.#db.prepare(`SELECT count(*) c FROM calls WHERE ${w}`).get(...args) as { c: number }).c;
    const rows = (this.#db.prepare(`SELECT * FROM calls WHERE ${w} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
      .all(...args, f.limit, f.offset) as Row[]).map(this.#map);
    return { rows, total };
  }
}
