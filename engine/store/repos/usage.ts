import type { Db } from '../db.js';
import { now, uuid } from '../ids.js';
import { b, s, type Row } from './util.js';

export interface UsageRecord {
  id: string;
  call_id: string | null;
  duration_sec: number;
  byok_stt: boolean;
  byok_llm: boolean;
  byok_tts: boolean;
  phone_number: string | null;
  agent_name: string | null;
  business_name: string | null;
  call_type: 'phone' | 'web';
  created_at: string;
}

export interface UsageFilter { start_date?: string; end_date?: string; limit: number; offset: number }

export class UsageRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }
  #map = (r: Row): UsageRecord => ({
    id: r.id as string,
    call_id: s(r.call_id),
    duration_sec: r.duration_sec as number,
    byok_stt: b(r.byok_stt),
    byok_llm: b(r.byok_llm),
    byok_tts: b(r.byok_tts),
    phone_number: s(r.phone_number),
    agent_name: s(r.agent_name),
    business_name: s(r.business_name),
    call_type: r.call_type === 'web' ? 'web' : 'phone',
    created_at: r.created_at as string,
  });
  insert(orgId: string, v: Omit<UsageRecord, 'id' | 'created_at'> & { created_at?: string }): UsageRecord {
    const id = uuid();
    this.#db.prepare('INSERT INTO usage_logs (id, org_id, call_id, duration_sec, byok_stt, byok_llm, byok_tts, phone_number, agent_name, business_name, call_type, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, orgId, v.call_id, v.duration_sec, v.byok_stt ? 1 : 0, v.byok_llm ? 1 : 0, v.byok_tts ? 1 : 0, v.phone_number, v.agent_name, v.business_name, v.call_type, v.created_at ?? now());
    return this.#map(this.#db.prepare('SELECT * FROM usage_logs WHERE id = ?').get(id) as Row);
  }
  list(orgId: string, f: UsageFilter): { rows: UsageRecord[]; total: number; totalSeconds: number } {
    const where = ['org_id = ?'];
    const args: unknown[] = [orgId];
    if (f.start_date) { where.push('created_at >= ?'); args.push(f.start_date); }
    if (f.end_date) { where.push('created_at <= ?'); args.push(f.end_date); }
    const w = where.join(' AND ');
    const agg = this.#db.prepare(`SELECT count(*) c, coalesce(sum(duration_sec), 0) d FROM usage_logs WHERE ${w}`).get(...args) as { c: number; d: number };
    const rows = (this.#db.prepare(`SELECT * FROM usage_logs WHERE ${w} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
      .all(...args, f.limit, f.offset) as Row[]).map(this.#map);
    return { rows, total: agg.c, totalSeconds: agg.d };
  }
}
