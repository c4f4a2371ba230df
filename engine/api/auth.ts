import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/index.js';
import { ApiError } from './errors.js';

export interface AuthContext {
  readonly orgId: string;
  readonly keyId: string;
  /** The bootstrap key: may create top-level organizations. */
  readonly isAdmin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** Spec §2.2 (FOUND): every 401 carries the same message; `code` says which case it was. */
const unauthorized = (code: 'unauthorized' | 'api_key_expired' | 'api_key_revoked' = 'unauthorized'): ApiError =>
  new ApiError(401, code, 'Invalid or missing API key');

/** `Authorization: Bearer <key>` (spec §2.2). */
export function authenticate(store: Store, req: FastifyRequest): AuthContext {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  if (!m) throw unauthorized();
  const row = store.apiKeys.findByKey(m[1] as string);
  if (!row) throw unauthorized();
  if (row.revoked_at) throw unauthorized('api_key_revoked');
  if (row.expires_at && Date.parse(row.expires_at) < Date.now()) throw unauthorized('api_key_expired');
  return { orgId: row.org_id, keyId: row.id, isAdmin: row.is_admin };
}

/** Fixed 60-second windows starting at the first request of the window (spec §10 PROPOSED). */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number, windowMs = 60_000, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Counts one hit. `allowed` false means over the limit; reset is Unix seconds. */
  hit(key: string): { allowed: boolean; remaining: number; reset: number; retryAfter: number } {
    const t = this.#now();
    let w = this.#windows.get(key);
    if (!w || t - w.start >= this.#windowMs) {
      w = { start: t, count: 0 };
      this.#windows.set(key, w);
      if (this.#windows.size > 10_000) this.#sweep(t);
    }
    w.count++;
    const resetMs = w.start + this.#windowMs;
    return {
      allowed: w.count <= this.#limit,
      remaining: Math.max(0, this.#limit - w.count),
      reset: Math.ceil(resetMs / 1000),
      retryAfter: Math.max(1, Math.ceil((resetMs - t) / 1000)),
    };
  }

  #sweep(t: number): void {
    for (const [k, w] of this.#windows) if (t - w.start >= this.#windowMs) this.#windows.delete(k);
  }
}

export function applyRateLimit(limiter: RateLimiter, key: string, reply: FastifyReply): void {
  const r = limiter.hit(key);
  reply.header('X-RateLimit-Limit', limiter.limit);
  reply.header('X-RateLimit-Remaining', r.remaining);
  reply.header('X-RateLimit-Reset', r.reset);
  if (!r.allowed) {
    reply.header('Retry-After', r.retryAfter);
    throw new ApiError(429, 'rate_limit_exceeded', `Too many requests. Please retry after ${r.retryAfter} seconds.`, { retryAfter: r.retryAfter });
  }
}
