/** HTTP digest for SIP (RFC 3261 §22, RFC 7616 algorithms, RFC 8760): MD5 and SHA-256, qop=auth. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { splitTopLevel, unquote } from './message.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  qop?: string[];
  stale?: boolean;
}

export interface DigestCredentials {
  username: string;
  realm?: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  cnonce?: string;
  qop?: string;
  nc?: string;
  opaque?: string;
}

/** Parse `Digest a=b, c="d"` into a lower-cased parameter map (undefined when not Digest). */
export function parseAuthParams(header: string): Record<string, string> | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const part of splitTopLevel(m[1] as string, ',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    out[part.slice(0, eq).trim().toLowerCase()] = unquote(part.slice(eq + 1));
  }
  return out;
}

function normAlg(a: string | undefined): DigestAlgorithm | undefined {
  if (!a) return 'MD5';
  const u = a.toUpperCase();
  if (u === 'MD5') return 'MD5';
  if (u === 'MD5-SESS') return 'MD5-sess';
  if (u === 'SHA-256') return 'SHA-256';
  if (u === 'SHA-256-SESS') return 'SHA-256-sess';
  return undefined;
}

export function parseChallenge(header: string): DigestChallenge | undefined {
  const p = parseAuthParams(header);
  if (!p || p['realm'] === undefined || !p['nonce']) return undefined;
  const algorithm = normAlg(p['algorithm']);
  if (!algorithm) return undefined;
  const c: DigestChallenge = { realm: p['realm'], nonce: p['nonce'], algorithm };
  if (p['opaque'] !== undefined) c.opaque = p['opaque'];
  if (p['qop']) c.qop = p['qop'].split(',').map((q) => q.trim().toLowerCase());
  if (p['stale']?.toLowerCase() === 'true') c.stale = true;
  return c;
}

export function parseCredentials(header: string): DigestCredentials | undefined {
  const p = parseAuthParams(header);
  if (!p || !p['username'] || !p['nonce'] || !p['uri'] || !p['response']) return undefined;
  const algorithm = normAlg(p['algorithm']);
  if (!algorithm) return undefined;
  const c: DigestCredentials = { username: p['username'], nonce: p['nonce'], uri: p['uri'], response: p['response'].toLowerCase(), algorithm };
  if (p['realm'] !== undefined) c.realm = p['realm'];
  if (p['cnonce'] !== undefined) c.cnonce = p['cnonce'];
  if (p['qop'] !== undefined) c.qop = p['qop'].toLowerCase();
  if (p['nc'] !== undefined) c.nc = p['nc'];
  if (p['opaque'] !== undefined) c.opaque = p['opaque'];
  return c;
}

function h(alg: DigestAlgorithm, s: string): string {
  return createHash(alg.startsWith('SHA-256') ? 'sha256' : 'md5').update(s, 'utf8').digest('hex');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  cnonce?: string;
  nc?: string;
  qop?: string;
}

export function computeDigestResponse(i: DigestInput): string {
  let ha1 = h(i.algorithm, `${i.username}:${i.realm}:${i.password}`);
  if (i.algorithm.endsWith('-sess')) ha1 = h(i.algorithm, `${ha1}:${i.nonce}:${i.cnonce ?? ''}`);
  const ha2 = h(i.algorithm, `${i.method}:${i.uri}`);
  if (i.qop) return h(i.algorithm, `${ha1}:${i.nonce}:${i.nc ?? ''}:${i.cnonce ?? ''}:${i.qop}:${ha2}`);
  return h(i.algorithm, `${ha1}:${i.nonce}:${ha2}`);
}

/** Pick the strongest challenge we support from a list of WWW-/Proxy-Authenticate values. */
export function pickChallenge(headers: readonly string[]): DigestChallenge | undefined {
  const parsed = headers.map(parseChallenge).filter((c): c is DigestChallenge => !!c);
  return parsed.find((c) => c.algorithm.startsWith('SHA-256')) ?? parsed[0];
}

/** Client side: build an Authorization / Proxy-Authorization value answering `ch`. */
export function buildAuthorization(
  ch: DigestChallenge,
  o: { username: string; password: string; method: string; uri: string; nc?: number; cnonce?: string },
): string {
  const qop = ch.qop?.includes('auth') ? 'auth' : undefined;
  const cnonce = o.cnonce ?? randomBytes(8).toString('hex');
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const response = computeDigestResponse({
    algorithm: ch.algorithm, username: o.username, realm: ch.realm, password: o.password, method: o.method, uri: o.uri,
    nonce: ch.nonce, ...(qop ? { qop, cnonce, nc } : {}),
  });
  const parts = [
    `username="${o.username}"`, `realm="${ch.realm}"`, `nonce="${ch.nonce}"`, `uri="${o.uri}"`,
    `response="${response}"`, `algorithm=${ch.algorithm}`,
  ];
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  if (ch.opaque !== undefined) parts.push(`opaque="${ch.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * Server side: stateless nonces (timestamp + HMAC), so no per-challenge memory is kept for
 * unauthenticated sources.
 */
export class DigestServer {
  readonly #secret = randomBytes(32);
  constructor(private readonly nonceTtlMs = 300_000) {}

  makeNonce(now = Date.now()): string {
    const ts = now.toString(16);
    const mac = createHmac('sha256', this.#secret).update(ts).digest('base64url').slice(0, 22);
    return `${ts}.${mac}`;
  }

  /** 'ok' | 'stale' (good MAC, expired) | 'bad'. */
  checkNonce(nonce: string, now = Date.now()): 'ok' | 'stale' | 'bad' {
    const [ts, mac] = nonce.split('.');
    if (!ts || !mac) return 'bad';
    const expect = createHmac('sha256', this.#secret).update(ts).digest('base64url').slice(0, 22);
    if (expect.length !== mac.length || !timingSafeEqual(Buffer.from(expect), Buffer.from(mac))) return 'bad';
    const age = now - parseInt(ts, 16);
    if (!(age >= -5000 && age <= this.nonceTtlMs)) return 'stale';
    return 'ok';
  }

  /** Challenge header values: SHA-256 first, then MD5 (RFC 8760 §2.4). */
  challenges(realm: string, stale = false): string[] {
    const nonce = this.makeNonce();
    return (['SHA-256', 'MD5'] as const).map(
      (alg) => `Digest realm="${realm}", nonce="${nonce}", algorithm=${alg}, qop="auth"${stale ? ', stale=TRUE' : ''}`,
    );
  }

  /** Verify credentials against `password`. */
  verify(cred: DigestCredentials, method: string, realm: string, password: string): 'ok' | 'stale' | 'bad' {
    if (cred.realm !== undefined && cred.realm !== realm) return 'bad';
    const n = this.checkNonce(cred.nonce);
    if (n === 'bad') return 'bad';
    if (cred.qop && cred.qop !== 'auth') return 'bad';
    const expected = computeDigestResponse({
      algorithm: cred.algorithm, username: cred.username, realm, password, method, uri: cred.uri, nonce: cred.nonce,
      ...(cred.qop ? { qop: cred.qop, cnonce: cred.cnonce ?? '', nc: cred.nc ?? '' } : {}),
    });
    const a = Buffer.from(expected);
    const b = Buffer.from(cred.response);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return 'bad';
    return n;
  }
}
