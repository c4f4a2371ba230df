import type { Db } from '../db.js';
import type { SecretBox } from '../secrets.js';
import { now, uuid } from '../ids.js';
import { j, type JsonObject, type Row } from './util.js';

/** An assistant as the API emits it (spec §4.5): the stored config plus identity and times. */
export type AssistantRecord = JsonObject & {
  id: string;
  name: string;
  is_active: boolean;
  webhook_secret: string | null;
  created_at: string;
  updated_at: string;
};

export class AssistantsRepo {
  readonly #db: Db;
  readonly #box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }

  #map = (r: Row): AssistantRecord => {
    const cfg = j<JsonObject>(r.config, {});
    return {
      id: r.id as string,
      name: r.name as string,
      ...cfg,
      is_active: r.is_active === 1,
      webhook_secret: typeof r.webhook_secret_enc === 'string' ? this.#box.open(r.webhook_secret_enc) : null,
      created_at: r.created_at as string,
      updated_at: r.updated_at as string,
    };
  };

  /** `config` is the full validated assistant (without id/times); webhook_secret is sealed apart. */
  #split(config: JsonObject): { name: string; active: number; rest: string; secret: string | null } {
    const { webhook_secret, id: _id, created_at: _c, updated_at: _u, ...rest } = config;
    return {
      name: String(config.name),
      active: config.is_active === false ? 0 : 1,
      rest: JSON.stringify(rest),
      secret: typeof webhook_secret === 'string' ? this.#box.seal(webhook_secret) : null,
    };
  }

  list(orgId: string): AssistantRecord[] {
    return (this.#db.prepare('SELECT * FROM assistants WHERE org_id = ? ORDER BY created_at DESC, rowid DESC').all(orgId) as Row[]).map(this.#map);
  }

  get(orgId: string, id: string): AssistantRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM assistants WHERE org_id = ? AND id = ?').get(orgId, id) as Row | undefined;
    return r && this.#map(r);
  }

  create(orgId: string, config: JsonObject): AssistantRecord {
    const id = uuid();
    const t = now();
    const p = this.#split(config);
    this.#db.prepare('INSERT INTO assistants (id, org_id, name, is_active, config, webhook_secret_enc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, orgId, p.name, p.active, p.rest, p.secret, t, t);
    return this.get(orgId, id) as AssistantRecord;
  }

  replace(orgId: string, id: string, config: JsonObject): AssistantRecord | undefined {
    const p = this.#split(config);
    const r = this.#db.prepare('UPDATE assistants SET name = ?, is_active = ?, config = ?, webhook_secret_enc = ?, updated_at = ? WHERE org_id = ? AND id = ?')
      .run(p.name, p.active, p.rest, p.secret, now(), orgId, id);
    return r.changes ? this.get(orgId, id) : undefined;
  }

  delete(orgId: string, id: string): boolean {
    return this.#db.transaction(() => {
      const r = this.#db.prepare('DELETE FROM assistants WHERE org_id = ? AND id = ?').run(orgId, id);
      if (!r.changes) return false;
      // Spec §3.1 PROPOSED: campaigns using it are paused (numbers lose it via ON DELETE SET NULL).
      this.#db.prepare("UPDATE campaigns SET status = 'paused', updated_at = ? WHERE agent_id = ? AND status = 'scheduled'").run(now(), id);
      return true;
    })();
  }
}
