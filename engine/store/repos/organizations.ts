import type { Db } from '../db.js';
import type { SecretBox } from '../secrets.js';
import { now, uuid } from '../ids.js';
import { b, n, s, type Row } from './util.js';

export interface OrganizationRow {
  id: string;
  name: string;
  parent_org_id: string | null;
  minutes_balance: number | null;
  has_local_models_access: boolean;
  webhook_url: string | null;
  webhook_secret: string | null;
  created_at: string;
  updated_at: string;
}

export class OrganizationsRepo {
  readonly #db: Db;
  readonly #box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }

  #map = (r: Row): OrganizationRow => ({
    id: r.id as string,
    name: r.name as string,
    parent_org_id: s(r.parent_org_id),
    minutes_balance: n(r.minutes_balance),
    has_local_models_access: b(r.has_local_models_access),
    webhook_url: s(r.webhook_url),
    webhook_secret: typeof r.webhook_secret_enc === 'string' ? this.#box.open(r.webhook_secret_enc) : null,
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });

  count(): number {
    return (this.#db.prepare('SELECT count(*) c FROM organizations').get() as { c: number }).c;
  }

  create(input: { name: string; parent_org_id: string | null }): OrganizationRow {
    const t = now();
    const id = uuid();
    this.#db.prepare('INSERT INTO organizations (id, name, parent_org_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, input.name, input.parent_org_id, t, t);
    return this.get(id) as OrganizationRow;
  }

  get(id: string): OrganizationRow | undefined {
    const r = this.#db.prepare('SELECT * FROM organizations WHERE id = ?').get(id) as Row | undefined;
    return r && this.#map(r);
  }

  children(id: string): OrganizationRow[] {
    return (this.#db.prepare('SELECT * FROM organizations WHERE parent_org_id = ? ORDER BY created_at').all(id) as Row[]).map(this.#map);
  }

  setWebhook(id: string, url: string | null, secret: string | null): void {
    this.#db.prepare('UPDATE organizations SET webhook_url = ?, webhook_secret_enc = ?, updated_at = ? WHERE id = ?')
      .run(url, secret === null ? null : this.#box.seal(secret), now(), id);
  }

  stats(id: string): { active_numbers: number; active_agents: number; active_calls: number; monthly_usage_seconds: number } {
    const one = (sql: string, ...args: unknown[]): number => (this.#db.prepare(sql).get(...args) as { c: number | null }).c ?? 0;
    const monthStart = new Date();
    monthStart.setUTCDate(1);
    monthStart.setUTCHours(0, 0, 0, 0);
    return {
      active_numbers: one('SELECT count(*) c FROM numbers WHERE org_id = ? AND is_active = 1', id),
      active_agents: one('SELECT count(*) c FROM assistants WHERE org_id = ? AND is_active = 1', id),
      active_calls: one("SELECT count(*) c FROM calls WHERE org_id = ? AND status IN ('connecting','in-progress')", id),
      monthly_usage_seconds: one('SELECT sum(duration_sec) c FROM usage_logs WHERE org_id = ? AND created_at >= ?', id, monthStart.toISOString()),
    };
  }
}
