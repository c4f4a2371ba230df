import type { Db } from '../db.js';
import type { SecretBox } from '../secrets.js';
import { now, uuid } from '../ids.js';
import { b, j, n, s, type Row } from './util.js';

export type Transport = 'udp' | 'tcp' | 'tls';
export type RegistrationStatus = 'registering' | 'registered' | 'failed' | 'unregistered';

export interface TrunkRecord {
  id: string;
  org_id: string;
  name: string;
  provider: string | null;
  /** Host only: name or IP (IPv6 without brackets); the port is in `port`. */
  address: string;
  port: number;
  transport: Transport;
  auth_username: string | null;
  /** Clear text, for the SIP layer only; never emitted by the API. */
  auth_password: string | null;
  inbound_addresses: string[];
  outbound_number: string | null;
  outbound_proxy: string | null;
  register: boolean;
  send_pai: boolean;
  registration_status: RegistrationStatus | null;
  registration_error: string | null;
  registration_updated_at: string | null;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

export type TrunkInput = Omit<TrunkRecord, 'id' | 'org_id' | 'created_at' | 'updated_at' | 'registration_status' | 'registration_error' | 'registration_updated_at'>;

export class TrunksRepo {
  readonly #db: Db;
  readonly #box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }
  #map = (r: Row): TrunkRecord => ({
    id: r.id as string,
    org_id: r.org_id as string,
    name: r.name as string,
    provider: s(r.provider),
    address: r.address as string,
    port: n(r.port) ?? 5060,
    transport: r.transport as Transport,
    auth_username: s(r.auth_username),
    auth_password: typeof r.auth_password_enc === 'string' ? this.#box.open(r.auth_password_enc) : null,
    inbound_addresses: j<string[]>(r.inbound_addresses, []),
    outbound_number: s(r.outbound_number),
    outbound_proxy: s(r.outbound_proxy),
    register: b(r.register),
    send_pai: b(r.send_pai),
    registration_status: s(r.registration_status) as RegistrationStatus | null,
    registration_error: s(r.registration_error),
    registration_updated_at: s(r.registration_updated_at),
    is_active: b(r.is_active),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });
  list(orgId: string): TrunkRecord[] {
    return (this.#db.prepare('SELECT * FROM sip_trunks WHERE org_id = ? ORDER BY created_at DESC, rowid DESC').all(orgId) as Row[]).map(this.#map);
  }
  /** Every active trunk of every organization (the SIP layer's admission and registration view). */
  listAllActive(): TrunkRecord[] {
    return (this.#db.prepare('SELECT * FROM sip_trunks WHERE is_active = 1 ORDER BY created_at').all() as Row[]).map(this.#map);
  }
  /** Changes whenever a trunk is added, removed or updated (admission caches key on it). */
  fingerprint(): string {
    const r = this.#db.prepare('SELECT count(*) c, max(rowid) m, max(updated_at) u, sum(is_active) a FROM sip_trunks').get() as Record<string, unknown>;
    return `${String(r.c)}|${String(r.m)}|${String(r.u)}|${String(r.a)}`;
  }

  get(orgId: string, id: string): TrunkRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM sip_trunks WHERE org_id = ? AND id = ?').get(orgId, id) as Row | undefined;
    return r && this.#map(r);
  }
  getById(id: string): TrunkRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM sip_trunks WHERE id = ?').get(id) as Row | undefined;
    return r && this.#map(r);
  }
  create(orgId: string, v: TrunkInput): TrunkRecord {
    const id = uuid();
    const t = now();
    this.#db.prepare(`INSERT INTO sip_trunks (id, org_id, name, provider, address, port, transport, auth_username, auth_password_enc,
        inbound_addresses, outbound_number, outbound_proxy, register, send_pai, is_active, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, orgId, v.name, v.provider, v.address, v.port, v.transport, v.auth_username,
        v.auth_password === null ? null : this.#box.seal(v.auth_password), JSON.stringify(v.inbound_addresses),
        v.outbound_number, v.outbound_proxy, v.register ? 1 : 0, v.send_pai ? 1 : 0, v.is_active ? 1 : 0, t, t);
    return this.get(orgId, id) as TrunkRecord;
  }
  setRegistration(id: string, status: RegistrationStatus, error: string | null): void {
    this.#db.prepare('UPDATE sip_trunks SET registration_status = ?, registration_error = ?, registration_updated_at = ? WHERE id = ?')
      .run(status, error, now(), id);
  }
  delete(orgId: string, id: string): boolean {
    return this.#db.prepare('DELETE FROM sip_trunks WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
  }
}
