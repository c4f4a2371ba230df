/**
 * RFC 3261 message model, parser and serializer.
 * Headers are kept in arrival order under their long lower-case names (compact forms expanded);
 * list-valued headers are split into one entry per value.
 */
import { SipParseError } from './errors.js';

export const SIP_VERSION = 'SIP/2.0';

const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', r: 'refer-to', b: 'referred-by',
  x: 'session-expires', o: 'event', u: 'allow-events', a: 'accept-contact', j: 'reject-contact',
  d: 'request-disposition', y: 'identity', n: 'identity-info',
};

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1). */
const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding',
  'in-reply-to', 'path', 'service-route', 'p-asserted-identity', 'reason', 'warning',
  'alert-info', 'call-info', 'error-info', 'content-language', 'security-client', 'security-server',
]);

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
  rack: 'RAck', rseq: 'RSeq', 'min-se': 'Min-SE', 'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match',
};

export function canonicalHeaderName(lower: string): string {
  return CANONICAL[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

export function normaliseHeaderName(name: string): string {
  const l = name.trim().toLowerCase();
  return COMPACT[l] ?? l;
}

export interface HeaderEntry { readonly name: string; readonly value: string }

export class SipHeaders {
  #list: HeaderEntry[] = [];

  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries) for (const [n, v] of entries) this.append(n, v);
  }
  get(name: string): string | undefined {
    const n = normaliseHeaderName(name);
    return this.#list.find((e) => e.name === n)?.value;
  }
  getAll(name: string): string[] {
    const n = normaliseHeaderName(name);
    return this.#list.filter((e) => e.name === n).map((e) => e.value);
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  /** Replace every value of `name` (placed where the first one was, or at the end). */
  set(name: string, value: string | readonly string[]): this {
    const n = normaliseHeaderName(name);
    const values = typeof value === 'string' ? [value] : value;
    const idx = this.#list.findIndex((e) => e.name === n);
    this.#list = this.#list.filter((e) => e.name !== n);
    const at = idx < 0 ? this.#list.length : Math.min(idx, this.#list.length);
    this.#list.splice(at, 0, ...values.map((v) => ({ name: n, value: v })));
    return this;
  }
  append(name: string, value: string): this {
    this.#list.push({ name: normaliseHeaderName(name), value });
    return this;
  }
  /** Insert before the first value of the same header (top Via, top Route...). */
  prepend(name: string, value: string): this {
    const n = normaliseHeaderName(name);
    const idx = this.#list.findIndex((e) => e.name === n);
    this.#list.splice(idx < 0 ? 0 : idx, 0, { name: n, value });
    return this;
  }
  delete(name: string): this {
    const n = normaliseHeaderName(name);
    this.#list = this.#list.filter((e) => e.name !== n);
    return this;
  }
  removeFirst(name: string): string | undefined {
    const n = normaliseHeaderName(name);
    const idx = this.#list.findIndex((e) => e.name === n);
    if (idx < 0) return undefined;
    return this.#list.splice(idx, 1)[0]?.value;
  }
  entries(): readonly HeaderEntry[] {
    return this.#list;
  }
  clone(): SipHeaders {
    const h = new SipHeaders();
    for (const e of this.#list) h.append(e.name, e.value);
    return h;
  }
}

export interface SipRequest {
  readonly type: 'request';
  method: string;
  uri: string;
  version: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  readonly type: 'response';
  status: number;
  reason: string;
  version: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export const DEFAULT_MAX_MESSAGE_SIZE = 16384;

// ---------------------------------------------------------------- lexical helpers

const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Split on `sep` outside quoted strings and <...>. */
export function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let angle = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (inQuote) {
      cur += ch;
      if (ch === '\\' && i + 1 < s.length) { cur += s[++i]; continue; }
      if (ch === '"') inQuote = false;
      continue;
    }
    if (ch === '"') { inQuote = true; cur += ch; continue; }
    if (ch === '<') angle++;
    else if (ch === '>' && angle > 0) angle--;
    if (ch === sep && angle === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (inQuote) throw new SipParseError(400, 'Unterminated quoted string');
  out.push(cur);
  return out;
}

export function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    return t.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return t;
}

export function quote(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

export type Params = Record<string, string | null>;

/** Parse `;a=b;c;d="x;y"` (leading `;` optional). Names are lower-cased. */
export function parseParams(s: string): Params {
  const params: Params = {};
  const t = s.trim();
  if (!t) return params;
  const parts = splitTopLevel(t.startsWith(';') ? t.slice(1) : t, ';');
  for (const p of parts) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (!name) continue;
    params[name] = eq < 0 ? null : unquote(p.slice(eq + 1));
  }
  return params;
}

function formatParamValue(v: string): string {
  return /^[A-Za-z0-9\-.!%*_+`'~:[\]]*$/.test(v) ? v : quote(v);
}

export function formatParams(params: Params): string {
  return Object.entries(params).map(([k, v]) => (v === null ? `;${k}` : `;${k}=${formatParamValue(v)}`)).join('');
}

// ---------------------------------------------------------------- URIs

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user?: string;
  password?: string;
  /** Host without brackets for IPv6 ("::1"); empty for tel: URIs. */
  host: string;
  port?: number;
  params: Params;
  headers: Record<string, string>;
}

export function isIPv6(host: string): boolean {
  return host.includes(':');
}

export function parseUri(input: string): SipUri {
  const s = input.trim();
  const colon = s.indexOf(':');
  if (colon < 0) throw new SipParseError(400, 'Malformed URI: missing scheme');
  const scheme = s.slice(0, colon).toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new SipParseError(400, 'Malformed URI scheme');
  const rest = s.slice(colon + 1);
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (!/^[+0-9A-Fa-f*#().\-\s%pw]+$/.test(number)) throw new SipParseError(400, 'Malformed tel URI');
    return { scheme: 'tel', user: number, host: '', params: semi < 0 ? {} : parseParams(rest.slice(semi)), headers: {} };
  }
  if (scheme !== 'sip' && scheme !== 'sips') throw new SipParseError(416, `Unsupported URI Scheme ${scheme}`);
  let hostPart = rest;
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    if (pc >= 0) { user = userinfo.slice(0, pc); password = userinfo.slice(pc + 1); }
    else user = userinfo;
    if (!user) throw new SipParseError(400, 'Malformed URI: empty user');
  }
  let headersPart = '';
  const q = hostPart.indexOf('?');
  if (q >= 0) { headersPart = hostPart.slice(q + 1); hostPart = hostPart.slice(0, q); }
  let paramsPart = '';
  const sc = hostPart.indexOf(';');
  if (sc >= 0) { paramsPart = hostPart.slice(sc); hostPart = hostPart.slice(0, sc); }
  const { host, port } = parseHostPort(hostPart);
  const headers: Record<string, string> = {};
  if (headersPart) {
    for (const kv of headersPart.split('&')) {
      const eq = kv.indexOf('=');
      if (eq > 0) headers[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  const uri: SipUri = { scheme, host, params: parseParams(paramsPart), headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

export function parseHostPort(s: string): { host: string; port?: number } {
  const t = s.trim();
  let host: string;
  let portStr: string | undefined;
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) throw new SipParseError(400, 'Malformed IPv6 reference');
    host = t.slice(1, end);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) throw new SipParseError(400, 'Malformed IPv6 reference');
    const after = t.slice(end + 1);
    if (after) {
      if (!after.startsWith(':')) throw new SipParseError(400, 'Malformed host');
      portStr = after.slice(1);
    }
  } else {
    const c = t.indexOf(':');
    if (c >= 0) {
      if (t.indexOf(':', c + 1) >= 0) throw new SipParseError(400, 'IPv6 address without brackets');
      host = t.slice(0, c);
      portStr = t.slice(c + 1);
    } else host = t;
    if (!/^[A-Za-z0-9\-.]+$/.test(host)) throw new SipParseError(400, 'Malformed host');
  }
  if (!host) throw new SipParseError(400, 'Malformed host');
  if (portStr === undefined) return { host };
  if (!/^\d{1,5}$/.test(portStr) || Number(portStr) > 65535) throw new SipParseError(400, 'Malformed port');
  return { host, port: Number(portStr) };
}

export function formatHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

export function formatUri(u: SipUri): string {
  if (u.scheme === 'tel') return `tel:${u.user ?? ''}${formatParams(u.params)}`;
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.user + (u.password !== undefined ? `:${u.password}` : '') + '@';
  s += formatHost(u.host);
  if (u.port !== undefined) s += `:${u.port}`;
  s += formatParams(u.params);
  const hk = Object.entries(u.headers);
  if (hk.length) s += '?' + hk.map(([k, v]) => `${k}=${v}`).join('&');
  return s;
}

/** Percent-decode a URI user part. */
export function unescapeUser(user: string): string {
  return user.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

// ---------------------------------------------------------------- name-addr

export interface NameAddr {
  display?: string;
  uri: string;
  params: Params;
}

export function parseNameAddr(input: string): NameAddr {
  const s = input.trim();
  let display: string | undefined;
  let uri: string;
  let rest: string;
  if (s.startsWith('"')) {
    let i = 1;
    for (; i < s.length; i++) {
      if (s[i] === '\\') { i++; continue; }
      if (s[i] === '"') break;
    }
    if (i >= s.length) throw new SipParseError(400, 'Unterminated quoted string');
    display = unquote(s.slice(0, i + 1));
    const after = s.slice(i + 1).trim();
    if (!after.startsWith('<')) throw new SipParseError(400, 'Malformed name-addr');
    const end = after.indexOf('>');
    if (end < 0) throw new SipParseError(400, 'Malformed name-addr: missing >');
    uri = after.slice(1, end);
    rest = after.slice(end + 1);
  } else {
    const lt = s.indexOf('<');
    if (lt >= 0) {
      const d = s.slice(0, lt).trim();
      if (d) display = d;
      const end = s.indexOf('>', lt);
      if (end < 0) throw new SipParseError(400, 'Malformed name-addr: missing >');
      uri = s.slice(lt + 1, end);
      rest = s.slice(end + 1);
    } else {
      const sc = s.indexOf(';');
      uri = sc < 0 ? s : s.slice(0, sc);
      rest = sc < 0 ? '' : s.slice(sc);
    }
  }
  uri = uri.trim();
  if (!uri || !/^[A-Za-z][A-Za-z0-9+\-.]*:/.test(uri) || /\s/.test(uri)) throw new SipParseError(400, 'Malformed URI in name-addr');
  const r = rest.trim();
  if (r && !r.startsWith(';')) throw new SipParseError(400, 'Malformed name-addr parameters');
  const out: NameAddr = { uri, params: parseParams(r) };
  if (display !== undefined) out.display = display;
  return out;
}

export function formatNameAddr(na: NameAddr): string {
  const d = na.display !== undefined && na.display !== '' ? `${quote(na.display)} ` : '';
  return `${d}<${na.uri}>${formatParams(na.params)}`;
}

// ---------------------------------------------------------------- Via

export interface Via {
  protocol: string;
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

export function parseVia(input: string): Via {
  const m = /^\s*([A-Za-z0-9.!%*_+`'~-]+)\s*\/\s*([0-9.]+)\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+([^;]+?)\s*(;.*)?$/s.exec(input);
  if (!m) throw new SipParseError(400, 'Malformed Via header');
  const { host, port } = parseHostPort((m[4] as string).replace(/\s+/g, ''));
  const via: Via = { protocol: `${m[1]}/${m[2]}`, transport: (m[3] as string).toUpperCase(), host, params: parseParams(m[5] ?? '') };
  if (port !== undefined) via.port = port;
  return via;
}

export function formatVia(v: Via): string {
  return `${v.protocol}/${v.transport} ${formatHost(v.host)}${v.port !== undefined ? `:${v.port}` : ''}${formatParams(v.params)}`;
}

// ---------------------------------------------------------------- CSeq

export interface CSeq { seq: number; method: string }

export function parseCSeq(s: string): CSeq {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(s);
  if (!m) throw new SipParseError(400, 'Malformed CSeq header');
  const seq = Number(m[1]);
  if (seq >= 2 ** 31) throw new SipParseError(400, 'CSeq number too large');
  return { seq, method: m[2] as string };
}

// ---------------------------------------------------------------- parser

export interface ParseOptions {
  maxSize?: number;
  /** Stream transports frame by Content-Length, which must then be present. */
  stream?: boolean;
}

/** The headers and start line of an unparseable message, enough to answer it when possible. */
export interface PartialMessage {
  method?: string;
  uri?: string;
  status?: number;
  headers: SipHeaders;
}

export class SipMessageError extends SipParseError {
  constructor(status: SipParseError['status'], reason: string, readonly partial?: PartialMessage) {
    super(status, reason);
  }
}

function findHeaderEnd(buf: Buffer, from: number): { end: number; sepLen: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n', from, 'latin1');
  const lf = buf.indexOf('\n\n', from, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { end: crlf, sepLen: 4 };
  if (lf >= 0) return { end: lf, sepLen: 2 };
  return undefined;
}

/** Parse one complete message from `buf` (a datagram or a framed stream message). */
export function parseMessage(buf: Buffer, opts: ParseOptions = {}): SipMessage {
  const maxSize = opts.maxSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start >= buf.length) throw new SipParseError(400, 'Empty message');
  const he = findHeaderEnd(buf, start);
  const headEnd = he ? he.end : buf.length;
  const bodyStart = he ? he.end + he.sepLen : buf.length;
  const head = buf.toString('utf8', start, headEnd);
  const rawLines = head.split(/\r?\n/);
  const startLine = rawLines.shift() ?? '';

  // Start line.
  let partial: PartialMessage = { headers: new SipHeaders() };
  let method: string | undefined;
  let uri = '';
  let status = 0;
  let reason = '';
  const fail = (st: SipParseError['status'], why: string): never => {
    throw new SipMessageError(st, why, partial);
  };
  if (/^SIP\//i.test(startLine)) {
    const m = /^(SIP\/\d+\.\d+) (\d{3}) ?(.*)$/.exec(startLine);
    if (!m) fail(400, 'Malformed Status-Line');
    if (m![1] !== SIP_VERSION) fail(505, 'Version Not Supported');
    status = Number(m![2]);
    if (status < 100 || status > 699) fail(400, 'Invalid status code');
    reason = m![3] ?? '';
    partial.status = status;
  } else {
    const parts = startLine.split(' ');
    if (parts.length !== 3 || parts.some((p) => p === '')) fail(400, 'Malformed Request-Line');
    const [mth, u, ver] = parts as [string, string, string];
    if (!TOKEN_RE.test(mth)) fail(400, 'Malformed Request-Line: bad method');
    method = mth;
    uri = u;
    partial.method = mth;
    partial.uri = u;
    if (!/^SIP\/\d+\.\d+$/i.test(ver)) fail(400, 'Malformed Request-Line: bad version');
    if (ver.toUpperCase() !== SIP_VERSION) fail(505, 'Version Not Supported');
  }

  // Header lines with unfolding.
  const lines: string[] = [];
  for (const l of rawLines) {
    if ((l.startsWith(' ') || l.startsWith('\t')) && lines.length) lines[lines.length - 1] += ' ' + l.trim();
    else lines.push(l);
  }
  const headers = new SipHeaders();
  partial = { ...partial, headers };
  const bad: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const c = line.indexOf(':');
    if (c <= 0) { bad.push('Malformed header line'); continue; }
    const rawName = line.slice(0, c).trim();
    if (!TOKEN_RE.test(rawName)) { bad.push(`Malformed header name ${rawName.slice(0, 32)}`); continue; }
    const name = normaliseHeaderName(rawName);
    const value = line.slice(c + 1).trim();
    if (LIST_HEADERS.has(name)) {
      let values: string[];
      try { values = splitTopLevel(value, ','); } catch { bad.push(`Malformed ${canonicalHeaderName(name)} header`); continue; }
      for (const v of values) { const t = v.trim(); if (t) headers.append(name, t); }
      if (name === 'contact' && value === '*') continue;
    } else headers.append(name, value);
  }
  if (buf.length > maxSize) fail(513, 'Message Too Large');
  if (!he && opts.stream) fail(400, 'Incomplete message header');
  if (bad.length) fail(400, bad[0] as string);

  // Mandatory headers.
  for (const h of ['via', 'from', 'to', 'call-id', 'cseq'] as const) {
    const n = headers.getAll(h).length;
    if (n === 0) fail(400, `Missing ${canonicalHeaderName(h)} header`);
    if (h !== 'via' && n > 1) fail(400, `Multiple ${canonicalHeaderName(h)} headers`);
  }
  let cseq: CSeq;
  try { cseq = parseCSeq(headers.get('cseq') as string); } catch (e) { fail(400, e instanceof SipParseError ? e.reason : 'Malformed CSeq header'); throw e; }
  if (method !== undefined && cseq.method !== method) fail(400, 'CSeq method does not match Request-Line');
  for (const h of ['from', 'to'] as const) {
    try { parseNameAddr(headers.get(h) as string); } catch { fail(400, `Malformed ${canonicalHeaderName(h)} header`); }
  }
  for (const v of headers.getAll('via')) {
    try { parseVia(v); } catch { fail(400, 'Malformed Via header'); }
  }
  if (!/^\S+$/.test(headers.get('call-id') as string)) fail(400, 'Malformed Call-ID header');
  const mf = headers.get('max-forwards');
  if (mf !== undefined && !/^\d{1,10}$/.test(mf)) fail(400, 'Malformed Max-Forwards header');
  for (const ct of headers.getAll('contact')) {
    if (ct === '*') continue;
    try { parseNameAddr(ct); } catch { fail(400, 'Malformed Contact header'); }
  }
  if (method !== undefined) {
    try { parseUri(uri); } catch (e) {
      if (e instanceof SipParseError && e.status === 416) fail(416, e.reason);
      fail(400, 'Malformed Request-URI');
    }
  }
  const exp = headers.get('expires');
  if (exp !== undefined && !/^\d+$/.test(exp)) fail(400, 'Malformed Expires header');

  // Body by Content-Length.
  const cls = headers.getAll('content-length');
  let body: Buffer;
  if (cls.length) {
    const uniq = new Set(cls.map((v) => v.trim()));
    if (uniq.size > 1) fail(400, 'Conflicting Content-Length headers');
    const v = cls[0] as string;
    if (!/^\d+$/.test(v.trim())) fail(400, 'Malformed Content-Length header');
    const n = Number(v.trim());
    const avail = buf.length - bodyStart;
    if (n > avail) fail(400, 'Content-Length exceeds message body');
    body = Buffer.from(buf.subarray(bodyStart, bodyStart + n));
  } else {
    if (opts.stream) fail(400, 'Missing Content-Length header');
    body = Buffer.from(buf.subarray(bodyStart));
  }

  if (method !== undefined) return { type: 'request', method, uri, version: SIP_VERSION, headers, body };
  return { type: 'response', status, reason, version: SIP_VERSION, headers, body };
}

// ---------------------------------------------------------------- serializer

export function serializeMessage(msg: SipMessage): Buffer {
  const start = msg.type === 'request' ? `${msg.method} ${msg.uri} ${SIP_VERSION}` : `${SIP_VERSION} ${msg.status} ${msg.reason}`;
  const lines = [start];
  for (const e of msg.headers.entries()) {
    if (e.name === 'content-length') continue;
    lines.push(`${canonicalHeaderName(e.name)}: ${e.value}`);
  }
  lines.push(`Content-Length: ${msg.body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8');
  return msg.body.length ? Buffer.concat([head, msg.body]) : head;
}

// ---------------------------------------------------------------- helpers

export const REASON_PHRASES: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 413: 'Request Entity Too Large', 415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme',
  420: 'Bad Extension', 421: 'Extension Required', 422: 'Session Interval Too Small', 423: 'Interval Too Brief',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected',
  483: 'Too Many Hops', 484: 'Address Incomplete', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending', 500: 'Server Internal Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Server Time-out',
  505: 'Version Not Supported', 513: 'Message Too Large', 600: 'Busy Everywhere', 603: 'Decline',
  604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status < 200 ? 'Progress' : status < 300 ? 'OK' : 'Error');
}

/** Build a response to `req` (RFC 3261 §8.2.6): copies Via, From, To, Call-ID, CSeq. */
export function createResponse(
  req: { headers: SipHeaders },
  status: number,
  reason?: string,
  opts: { toTag?: string; recordRoute?: boolean } = {},
): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.getAll('via')) h.append('via', v);
  const from = req.headers.get('from');
  if (from !== undefined) h.append('from', from);
  let to = req.headers.get('to');
  if (to !== undefined && opts.toTag && status !== 100) {
    try {
      const na = parseNameAddr(to);
      if (na.params['tag'] === undefined) to = `${to};tag=${opts.toTag}`;
    } catch { /* leave as is */ }
  }
  if (to !== undefined) h.append('to', to);
  for (const n of ['call-id', 'cseq'] as const) {
    const v = req.headers.get(n);
    if (v !== undefined) h.append(n, v);
  }
  if (opts.recordRoute) for (const rr of req.headers.getAll('record-route')) h.append('record-route', rr);
  return { type: 'response', status, reason: reason ?? reasonPhrase(status), version: SIP_VERSION, headers: h, body: Buffer.alloc(0) };
}

export function getTag(headerValue: string | undefined): string | undefined {
  if (!headerValue) return undefined;
  try {
    const t = parseNameAddr(headerValue).params['tag'];
    return t ?? undefined;
  } catch { return undefined; }
}

export function cseqOf(msg: SipMessage): CSeq {
  return parseCSeq(msg.headers.get('cseq') ?? '');
}

export function topVia(msg: SipMessage): Via {
  return parseVia(msg.headers.get('via') ?? '');
}

/** Split comma/space token lists such as Supported/Require/Allow that may have been joined. */
export function tokenList(headers: SipHeaders, name: string): string[] {
  return headers.getAll(name).flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase()).filter(Boolean);
}
