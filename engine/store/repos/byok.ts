import type { Db } from '../db.js';
import type { SecretBox } from '../secrets.js';
import { now, uuid } from '../ids.js';
import { j, type JsonObject, type Row } from './util.js';

/** Organization provider keys, sealed with the master key. The id is the opaque `*_secret_id`. */
export class ByokRepo {
  readonly #db: Db;
  readonly #box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }
  /** provider -> secret id */
  ids(orgId: string): Map<string, string> {
    const rows = this.#db.prepare('SELECT provider, id FROM byok_secrets WHERE org_id = ?').all(orgId) as { provider: string; id: string }[];
    return new Map(rows.map((r) => [r.provider, r.id]));
  }
  /** Re-POSTing a provider rotates its key: a new secret id is issued. */
  put(orgId: string, provider: string, apiKey: string): void {
    const t = now();
    this.#db.prepare(`INSERT INTO byok_secrets (id, org_id, provider, secret_enc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (org_id, provider) DO UPDATE SET id = excluded.id, secret_enc = excluded.secret_enc, updated_at = excluded.updated_at`)
      .run(uuid(), orgId, provider, this.#box.seal(apiKey), t, t);
  }
  delete(orgId: string, provider: string): boolean {
    return this.#db.prepare('DELETE FROM byok_secrets WHERE org_id = ? AND provider = ?').run(orgId, provider).changes > 0;
  }
  /** The clear key, for provider clients only. */
  key(orgId: string, provider: string): string | undefined {
    const r = this.#db.prepare('SELECT secret_enc FROM byok_secrets WHERE org_id = ? AND provider = ?').get(orgId, provider) as Row | undefined;
    return r ? this.#box.open(r.secret_enc as string) : undefined;
  }
  config(orgId: string, provider: string): JsonObject | undefined {
    const r = this.#db.prepare('SELECT config FROM byok_secrets WHERE org_id = ? AND provider = ?').get(orgId, provider) as Row | undefined;
    return r ? j<JsonObject>(r.config, {}) : undefined;
  }
  allConfigs(orgId: string): Record<string, JsonObject> {
    const rows = this.#db.prepare('SELECT provider, config FROM byok_secrets WHERE org_id = ?').all(orgId) as Row[];
    return Object.fromEntries(rows.map((r) => [r.provider as string, j<JsonObject>(r.config, {})]));
  }
  setConfig(orgId: string, provider: string, config: JsonObject): void {
    this.#db.prepare('UPDATE byok_secrets SET config = ?, updated_at = ? WHERE org_id = ? AND provider = ?').run(JSON.stringify(config), now(), orgId, provider);
  }
}
