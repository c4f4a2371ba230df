import { createHash, randomBytes, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += BASE62[b % 62];
    }
  }
  return out;
}

export const uuid = (): string => randomUUID();

/** Spec §4.11 PROPOSED: `call-_<remote E.164 or "web">_<12 base62>`. */
export const callId = (remote: string | null): string => `call-_${remote ?? 'web'}_${base62(12)}`;

/** Spec §2.2 PROPOSED: `vk_live_<32 base62>`. */
export const apiKey = (kind: 'live' | 'test' = 'live'): string => `vk_${kind}_${base62(32)}`;

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export const now = (): string => new Date().toISOString();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);
