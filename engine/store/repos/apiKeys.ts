import type { Db } from '../db.js';
import { apiKey, hashKey, now, uuid } from '../ids.js';
import { b, s, type Row } from './util.js';

export interface ApiKeyRow {
  id: string;
  org_id: string;
  is_admin: boolean;
  expires_at: string | null;
  revoked_at: string | null;
}

/** Keys are stored as SHA-256 hashes; the clear value exists only in the create() result. */
export class ApiKeysRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  create(orgId: string, opts: { isAdmin?: boolean; value?: string } = {}): { key: string; row: ApiKeyRow } {
    const key = opts.value ?? apiKey('live');
    const id = uuid();
    this.#db.prepare('INSERT INTO api_keys (id, org_id, key_hash, key_hint, is_admin, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, orgId, hashKey(key), key.slice(0, 8) + '…' + key.slice(-4), opts.isAdmin ? 1 : 0, now());
    return { key, row: { id, org_id: orgId, is_admin: !!opts.isAdmin, expires_at: null, revoked_at: null } };
  }

  findByKey(key: string): ApiKeyRow | undefined {
    const r = this.#db.prepare('SELECT * FROM api_keys WHERE key_hash = ?').get(hashKey(key)) as Row | undefined;
    if (!r) return undefined;
    return { id: r.id as string, org_id: r.org_id as string, is_admin: b(r.is_admin), expires_at: s(r.expires_at), revoked_at: s(r.revoked_at) };
  }

  revoke(id: string): void {
    this.#db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(now(), id);
  }
}
