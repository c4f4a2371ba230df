import type { Db } from '../db.js';
import { now, uuid } from '../ids.js';
import { b, j, s, type JsonObject, type Row } from './util.js';

export interface DomainRecord {
  id: string;
  resend_domain_id: string;
  name: string;
  status: string;
  region: string | null;
  records: JsonObject[];
  /** True when POST /domains created it at Resend; false when it was selected with /domains/sync. */
  created_here: boolean;
  created_at: string;
  updated_at: string;
}

export type DomainInput = Pick<DomainRecord, 'resend_domain_id' | 'name' | 'status' | 'region' | 'records'> & { created_here?: boolean };

/** One sending domain per organization (spec §3.10). */
export class DomainsRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }
  #map = (r: Row): DomainRecord => ({
    id: r.id as string,
    resend_domain_id: r.resend_domain_id as string,
    name: r.name as string,
    status: r.status as string,
    region: s(r.region),
    records: j<JsonObject[]>(r.records, []),
    created_here: b(r.created_here),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });
  get(orgId: string): DomainRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM domains WHERE org_id = ?').get(orgId) as Row | undefined;
    return r && this.#map(r);
  }
  /**
   * Inserts or replaces the organization's domain. Selecting another Resend domain starts a new
   * record (new id, created_at); re-reading the same one keeps its id and origin.
   */
  put(orgId: string, v: DomainInput): DomainRecord {
    const t = now();
    const current = this.get(orgId);
    if (current && current.resend_domain_id === v.resend_domain_id) {
      this.#db.prepare('UPDATE domains SET name = ?, status = ?, region = ?, records = ?, updated_at = ? WHERE org_id = ?')
        .run(v.name, v.status, v.region, JSON.stringify(v.records), t, orgId);
      return this.get(orgId) as DomainRecord;
    }
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM domains WHERE org_id = ?').run(orgId);
      this.#db.prepare(`INSERT INTO domains (id, org_id, resend_domain_id, name, status, region, records, created_here, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(uuid(), orgId, v.resend_domain_id, v.name, v.status, v.region, JSON.stringify(v.records), v.created_here ? 1 : 0, t, t);
    })();
    return this.get(orgId) as DomainRecord;
  }
  delete(orgId: string): boolean {
    return this.#db.prepare('DELETE FROM domains WHERE org_id = ?').run(orgId).changes > 0;
  }
}
