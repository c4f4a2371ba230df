import type { Db } from '../db.js';
import type { SecretBox } from '../secrets.js';
import { now, uuid } from '../ids.js';
import { s, type Row } from './util.js';

export interface OutboxItem {
  id: string;
  org_id: string;
  call_id: string | null;
  event_type: string;
  url: string;
  secret: string | null;
  body: string;
  seq: number;
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** The durable webhook outbox: an event is written before any attempt, so a crash loses nothing. */
export class OutboxRepo {
  readonly #db: Db;
  readonly #box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }
  #map = (r: Row): OutboxItem => ({
    id: r.id as string,
    org_id: r.org_id as string,
    call_id: s(r.call_id),
    event_type: r.event_type as string,
    url: r.url as string,
    secret: typeof r.secret_enc === 'string' ? this.#box.open(r.secret_enc) : null,
    body: r.body as string,
    seq: r.seq as number,
    attempts: r.attempts as number,
    status: r.status as OutboxItem['status'],
    next_attempt_at: r.next_attempt_at as string,
    last_error: s(r.last_error),
    created_at: r.created_at as string,
    delivered_at: s(r.delivered_at),
  });
  enqueue(v: { org_id: string; call_id: string | null; event_type: string; url: string; secret: string | null; body: string; id?: string; at?: string }): OutboxItem {
    const id = v.id ?? uuid();
    const t = v.at ?? now();
    const seq = (this.#db.prepare('SELECT coalesce(max(seq), 0) + 1 s FROM webhook_outbox').get() as { s: number }).s;
    this.#db.prepare(`INSERT INTO webhook_outbox (id, org_id, call_id, event_type, url, secret_enc, body, seq, next_attempt_at, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, v.org_id, v.call_id, v.event_type, v.url, v.secret === null ? null : this.#box.seal(v.secret), v.body, seq, t, t);
    return this.get(id) as OutboxItem;
  }
  get(id: string): OutboxItem | undefined {
    const r = this.#db.prepare('SELECT * FROM webhook_outbox WHERE id = ?').get(id) as Row | undefined;
    return r && this.#map(r);
  }
  due(at: string, limit = 50): OutboxItem[] {
    return (this.#db.prepare("SELECT * FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY seq LIMIT ?").all(at, limit) as Row[]).map(this.#map);
  }
  /**
   * Due items that may be attempted now: pending, `next_attempt_at <= at`, and (per-call ordering,
   * spec §6.8) no earlier pending item of the same call. Items without a call are never held back.
   */
  ready(at: string, limit = 50): OutboxItem[] {
    return (this.#db.prepare(`SELECT * FROM webhook_outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= ?
      AND (o.call_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.call_id = o.call_id AND p.seq < o.seq))
      ORDER BY o.seq LIMIT ?`).all(at, limit) as Row[]).map(this.#map);
  }
  /** The earliest `next_attempt_at` of any pending item, or null when nothing is pending. */
  nextDueAt(): string | null {
    return s((this.#db.prepare("SELECT min(next_attempt_at) t FROM webhook_outbox WHERE status = 'pending'").get() as { t: unknown }).t);
  }
  /** The earliest `next_attempt_at` of a pending item that is later than `at`, or null. */
  nextDueAfter(at: string): string | null {
    return s((this.#db.prepare("SELECT min(next_attempt_at) t FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at > ?").get(at) as { t: unknown }).t);
  }
  /** Every item of one call in send order (any status). */
  forCall(callId: string): OutboxItem[] {
    return (this.#db.prepare('SELECT * FROM webhook_outbox WHERE call_id = ? ORDER BY seq').all(callId) as Row[]).map(this.#map);
  }
  /** Deletes delivered items delivered before `before`; failed items are kept for inspection. */
  pruneDelivered(before: string): number {
    return this.#db.prepare("DELETE FROM webhook_outbox WHERE status = 'delivered' AND delivered_at < ?").run(before).changes;
  }
  pending(): OutboxItem[] {
    return (this.#db.prepare("SELECT * FROM webhook_outbox WHERE status = 'pending' ORDER BY seq").all() as Row[]).map(this.#map);
  }
  markDelivered(id: string, attempts: number): void {
    this.#db.prepare("UPDATE webhook_outbox SET status = 'delivered', attempts = ?, delivered_at = ?, last_error = NULL WHERE id = ?").run(attempts, now(), id);
  }
  markRetry(id: string, attempts: number, nextAt: string, error: string): void {
    this.#db.prepare('UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?').run(attempts, nextAt, error, id);
  }
  markFailed(id: string, attempts: number, error: string): void {
    this.#db.prepare("UPDATE webhook_outbox SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?").run(attempts, error, id);
  }
}
