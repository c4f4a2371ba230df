import type { Db } from '../db.js';
import { now, uuid } from '../ids.js';
import { b, s, type Row } from './util.js';

export interface NumberRecord {
  id: string;
  org_id: string;
  phone_number: string;
  name: string | null;
  agent_id: string | null;
  agent_name: string | null;
  business_name: string | null;
  transfer_trunk_id: string | null;
  transfer_trunk_name: string | null;
  workflow_id: string | null;
  source: string;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

export type NumberInput = Pick<NumberRecord, 'phone_number' | 'name' | 'agent_id' | 'transfer_trunk_id' | 'workflow_id' | 'is_active'>;

const SELECT = `SELECT n.*, a.name AS agent_name, json_extract(a.config, '$.business_name') AS business_name, t.name AS transfer_trunk_name
  FROM numbers n LEFT JOIN assistants a ON a.id = n.agent_id LEFT JOIN sip_trunks t ON t.id = n.transfer_trunk_id`;

export class NumbersRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }
  #map = (r: Row): NumberRecord => ({
    id: r.id as string,
    org_id: r.org_id as string,
    phone_number: r.phone_number as string,
    name: s(r.name),
    agent_id: s(r.agent_id),
    agent_name: s(r.agent_name),
    business_name: s(r.business_name),
    transfer_trunk_id: s(r.transfer_trunk_id),
    transfer_trunk_name: s(r.transfer_trunk_name),
    workflow_id: s(r.workflow_id),
    source: (r.source as string) ?? 'sip',
    is_active: b(r.is_active),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });
  list(orgId: string): NumberRecord[] {
    return (this.#db.prepare(`${SELECT} WHERE n.org_id = ? ORDER BY n.created_at DESC, n.rowid DESC`).all(orgId) as Row[]).map(this.#map);
  }
  get(orgId: string, id: string): NumberRecord | undefined {
    const r = this.#db.prepare(`${SELECT} WHERE n.org_id = ? AND n.id = ?`).get(orgId, id) as Row | undefined;
    return r && this.#map(r);
  }
  /** Routing: any organization's number by its E.164 form. */
  findByE164(phone: string): NumberRecord | undefined {
    const r = this.#db.prepare(`${SELECT} WHERE n.phone_number = ?`).get(phone) as Row | undefined;
    return r && this.#map(r);
  }
  create(orgId: string, v: NumberInput): NumberRecord {
    const id = uuid();
    const t = now();
    this.#db.prepare('INSERT INTO numbers (id, org_id, phone_number, name, agent_id, transfer_trunk_id, workflow_id, source, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, orgId, v.phone_number, v.name, v.agent_id, v.transfer_trunk_id, v.workflow_id, 'sip', v.is_active ? 1 : 0, t, t);
    return this.get(orgId, id) as NumberRecord;
  }
  update(orgId: string, id: string, v: Omit<NumberInput, 'phone_number'>): NumberRecord | undefined {
    this.#db.prepare('UPDATE numbers SET name = ?, agent_id = ?, transfer_trunk_id = ?, workflow_id = ?, is_active = ?, updated_at = ? WHERE org_id = ? AND id = ?')
      .run(v.name, v.agent_id, v.transfer_trunk_id, v.workflow_id, v.is_active ? 1 : 0, now(), orgId, id);
    return this.get(orgId, id);
  }
  delete(orgId: string, id: string): boolean {
    return this.#db.prepare('DELETE FROM numbers WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
  }

  /**
   * Caller-ID choice for outbound dialling (spec §8.4 and §3.4 PROPOSED): the first (oldest)
   * active number assigned to `agentId` whose transfer trunk is active; else the first active
   * number of the organization with an active trunk. `agentId` null skips the first step.
   */
  callerIdFor(orgId: string, agentId: string | null): NumberRecord | undefined {
    const usable = `${SELECT} WHERE n.org_id = ? AND n.is_active = 1 AND t.id IS NOT NULL AND t.is_active = 1`;
    const order = 'ORDER BY n.created_at, n.rowid LIMIT 1';
    const r = (agentId === null ? undefined : this.#db.prepare(`${usable} AND n.agent_id = ? ${order}`).get(orgId, agentId) as Row | undefined)
      ?? this.#db.prepare(`${usable} ${order}`).get(orgId) as Row | undefined;
    return r && this.#map(r);
  }

  /** Whether the organization has any active number at all (tells no_outbound_number from no_outbound_trunk). */
  hasActive(orgId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM numbers WHERE org_id = ? AND is_active = 1 LIMIT 1').get(orgId) !== undefined;
  }

  /** The `scheduled` campaigns of the organization whose caller ID (callerIdFor) is this number. */
  scheduledCampaignsUsing(orgId: string, numberId: string): { id: string; name: string }[] {
    const campaigns = this.#db.prepare("SELECT id, name, agent_id FROM campaigns WHERE org_id = ? AND status = 'scheduled' ORDER BY created_at")
      .all(orgId) as { id: string; name: string; agent_id: string }[];
    return campaigns.filter((c) => this.callerIdFor(orgId, c.agent_id)?.id === numberId).map(({ id, name }) => ({ id, name }));
  }

  /** Deletes the number unless a scheduled campaign dials from it (atomic check and delete). */
  deleteUnlessInUse(orgId: string, id: string): { deleted: boolean; usedBy: { id: string; name: string }[] } {
    return this.#db.transaction(() => {
      const usedBy = this.scheduledCampaignsUsing(orgId, id);
      if (usedBy.length) return { deleted: false, usedBy };
      return { deleted: this.delete(orgId, id), usedBy };
    })();
  }
}
