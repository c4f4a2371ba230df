/**
 * SipStack: transports + transactions + dialogs + inbound admission. The public surface is
 * dialog-centred: `onCall(IncomingCall)`, `placeCall()`, `register()`, and `Dialog`.
 */
import { randomBytes } from 'node:crypto';
import {
  createResponse, formatHost, getTag, parseCSeq, parseUri, parseVia, formatVia, serializeMessage, tokenList,
} from './message.js';
import type { SipMessage, SipRequest, SipResponse } from './message.js';
import type { SipParseError } from './errors.js';
import { TransportLayer } from './transport.js';
import type { Endpoint, TransportOptions, TransportProtocol } from './transport.js';
import { ClientTransaction, ServerTransaction, DEFAULT_TIMERS } from './transaction.js';
import type { TimerValues, TransactionHost } from './transaction.js';
import type { SipCore, RequestHandle, SendOptions, SessionTimerOptions, EarlyHandler } from './core.js';
import { Dialog } from './dialog.js';
import { IncomingCall, negotiateSessionTimer } from './incoming.js';
import { placeCall } from './outgoing.js';
import type { PlaceCallOptions } from './outgoing.js';
import { Registration } from './registration.js';
import type { RegistrationOptions } from './registration.js';
import { DigestServer, parseCredentials, pickChallenge, buildAuthorization } from './digest.js';
import type { E164Options } from './e164.js';
import type { SipMessageError } from './message.js';

export interface DigestSecret {
  password: string;
  /** The trunk these credentials belong to. */
  trunkId?: string;
}

export type AuthorizeResult =
  | { allow: true; trunkId?: string }
  | { allow: false }
  | {
    challenge: {
      realm: string;
      /** The password for `username` (or undefined when unknown). */
      lookup(username: string): string | DigestSecret | undefined | Promise<string | DigestSecret | undefined>;
      /** Trunk to report when `lookup` returns a bare password. */
      trunkId?: string;
    };
  };

export interface SipTraceEntry {
  direction: 'in' | 'out';
  protocol: TransportProtocol;
  remote: string;
  callId: string | undefined;
  /** First line of the message. */
  summary: string;
  raw: string;
}

/** pino-compatible subset. */
export interface SipLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SipStackOptions extends TransportOptions {
  /** Inbound admission for out-of-dialog INVITEs. Default: allow everything. */
  authorize?: (request: SipRequest, source: Endpoint) => AuthorizeResult | Promise<AuthorizeResult>;
  /** New inbound calls (after admission). Without a handler calls get 480. */
  onCall?: (call: IncomingCall) => void;
  userAgent?: string;
  timers?: Partial<TimerValues>;
  sessionTimer?: Partial<SessionTimerOptions>;
  /** Refusals (403) answered per source address per window before further requests are dropped silently. */
  refusals?: { max?: number; windowMs?: number };
  /** Log every message in and out (true → logger/console), or a callback. */
  trace?: boolean | ((e: SipTraceEntry) => void);
  logger?: SipLogger;
  e164?: E164Options;
  /** Status used to challenge inbound INVITEs (default 407). */
  challengeStatus?: 401 | 407;
}

export interface SipStackStats {
  dialogs: number;
  serverTransactions: number;
  clientTransactions: number;
  /** 403 refusals per source address since start. */
  refusals: Record<string, number>;
  /** Requests dropped silently (rate limit or unanswerable parse errors). */
  dropped: number;
  parseErrors: number;
}

const SUPPORTED = ['100rel', 'timer', 'replaces', 'norefersub'] as const;
const ACCEPTED_REQUIRE = new Set(['100rel', 'timer']);
const ALLOW = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK', 'NOTIFY'] as const;
const KNOWN_UNSUPPORTED = new Set(['REGISTER', 'SUBSCRIBE', 'MESSAGE', 'PUBLISH', 'REFER']);

class RefusalLimiter {
  readonly totals = new Map<string, number>();
  #windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly max: number, private readonly windowMs: number) {}

  #win(ip: string): { start: number; count: number } {
    const now = Date.now();
    let w = this.#windows.get(ip);
    if (!w || now - w.start > this.windowMs) {
      w = { start: now, count: 0 };
      this.#windows.set(ip, w);
      if (this.#windows.size > 10000) {
        for (const [k, v] of this.#windows) if (now - v.start > this.windowMs) this.#windows.delete(k);
      }
    }
    return w;
  }
  blocked(ip: string): boolean {
    const w = this.#windows.get(ip);
    return !!w && Date.now() - w.start <= this.windowMs && w.count >= this.max;
  }
  /** Count a refusal; true when it may still be answered. */
  refuse(ip: string): boolean {
    if (!this.totals.has(ip) && this.totals.size >= 10000) {
      // Bounded memory under spoofed-source floods: forget the oldest source.
      const oldest = this.totals.keys().next().value;
      if (oldest !== undefined) this.totals.delete(oldest);
    }
    this.totals.set(ip, (this.totals.get(ip) ?? 0) + 1);
    const w = this.#win(ip);
    w.count++;
    return w.count <= this.max;
  }
}

export class SipStack implements SipCore {
  readonly timers: TimerValues;
  readonly sessionTimer: SessionTimerOptions;
  readonly userAgent: string;
  readonly supported: readonly string[] = SUPPORTED;
  readonly allow: readonly string[] = ALLOW;

  readonly #opts: SipStackOptions;
  readonly #transport: TransportLayer;
  readonly #host: TransactionHost;
  #serverTx = new Map<string, ServerTransaction>();
  #clientTx = new Map<string, ClientTransaction>();
  #merged = new Map<string, string>();
  #dialogs = new Map<string, Dialog>();
  #early = new Map<string, EarlyHandler>();
  #calls = new WeakMap<ServerTransaction, IncomingCall>();
  #acks = new Map<string, { ack: SipRequest; dest: Endpoint; at: number }>();
  #limiter: RefusalLimiter;
  #digest = new DigestServer();
  #registrations = new Set<Registration>();
  #dropped = 0;
  #parseErrors = 0;
  #started = false;
  #closed = false;

  constructor(opts: SipStackOptions = {}) {
    this.#opts = opts;
    this.timers = { ...DEFAULT_TIMERS, ...opts.timers };
    this.sessionTimer = { expires: 1800, minSE: 90, ...opts.sessionTimer };
    this.userAgent = opts.userAgent ?? 'voice-engine';
    this.#limiter = new RefusalLimiter(opts.refusals?.max ?? 20, opts.refusals?.windowMs ?? 10_000);
    this.#transport = new TransportLayer(opts, {
      message: (m, src, raw) => this.#onMessage(m, src, raw),
      parseError: (e, src, raw, partial) => this.#onParseError(e, src, raw, partial),
      sent: (raw, dest) => this.#trace('out', raw, dest),
    });
    this.#host = {
      timers: this.timers,
      send: (msg, dest) => this.sendRaw(msg, dest),
      terminated: (tx) => {
        if (tx instanceof ClientTransaction) { if (this.#clientTx.get(tx.key) === tx) this.#clientTx.delete(tx.key); }
        else {
          if (this.#serverTx.get(tx.key) === tx) this.#serverTx.delete(tx.key);
          const mk = mergeKey(tx.request);
          if (mk && this.#merged.get(mk) === tx.key) this.#merged.delete(mk);
        }
      },
    };
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#transport.start();
  }

  /** BYE every dialog, stop registrations, close sockets. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#registrations].map((r) => r.stop().catch(() => undefined)));
    const byes = [...this.#dialogs.values()].map((d) => d.shutdown());
    await Promise.race([Promise.all(byes), new Promise((r) => setTimeout(r, 1000))]);
    for (const tx of [...this.#clientTx.values()]) tx.abort();
    for (const tx of [...this.#serverTx.values()]) tx.abort();
    await this.#transport.close();
  }

  /** Local port of a transport (after start()). */
  port(protocol: TransportProtocol = 'udp'): number {
    const p = this.#transport.port(protocol);
    if (p === undefined) throw new Error(`no ${protocol} listener`);
    return p;
  }

  advertisedAddress(): string {
    return this.#transport.advertisedAddress;
  }

  stats(): SipStackStats {
    return {
      dialogs: this.#dialogs.size,
      serverTransactions: this.#serverTx.size,
      clientTransactions: this.#clientTx.size,
      refusals: Object.fromEntries(this.#limiter.totals),
      dropped: this.#dropped,
      parseErrors: this.#parseErrors,
    };
  }

  /** Live dialogs. */
  dialogs(): Dialog[] {
    return [...this.#dialogs.values()];
  }

  placeCall(opts: PlaceCallOptions): Promise<Dialog> {
    return placeCall(this, opts);
  }

  /** Create (not start) a registration for a trunk; call start() on it. stop() unregisters. */
  register(opts: RegistrationOptions): Registration {
    const r = new Registration(this, opts);
    this.#registrations.add(r);
    r.on('unregistered', () => this.#registrations.delete(r));
    return r;
  }

  // ------------------------------------------------------------------ SipCore

  newTag(): string {
    return randomBytes(6).toString('hex');
  }
  newBranch(): string {
    return `z9hG4bK${randomBytes(9).toString('base64url')}`;
  }
  newCallId(): string {
    return `${randomBytes(12).toString('hex')}@${this.advertisedAddress()}`;
  }

  #portFor(protocol: TransportProtocol): number {
    return this.#transport.port(protocol) ?? this.#transport.port('udp') ?? 5060;
  }

  contact(protocol: TransportProtocol, user?: string): string {
    const t = protocol === 'udp' ? '' : `;transport=${protocol}`;
    return `<sip:${user ? `${user}@` : ''}${formatHost(this.advertisedAddress())}:${this.#portFor(protocol)}${t}>`;
  }

  async sendRaw(msg: SipMessage, dest: Endpoint): Promise<void> {
    await this.#transport.send(serializeMessage(msg), dest);
  }

  respond(tx: ServerTransaction, res: SipResponse): void {
    if (!res.headers.has('server')) res.headers.append('server', this.userAgent);
    tx.respond(res);
  }

  addDialog(d: Dialog): void {
    this.#dialogs.set(d.key, d);
  }
  removeDialog(d: Dialog): void {
    if (this.#dialogs.get(d.key) === d) this.#dialogs.delete(d.key);
  }
  addEarly(key: string, h: EarlyHandler): void {
    this.#early.set(key, h);
  }
  removeEarly(key: string): void {
    this.#early.delete(key);
  }

  cacheAck(callId: string, seq: number, ack: SipRequest, dest: Endpoint): void {
    const now = Date.now();
    this.#acks.set(`${callId}|${seq}`, { ack, dest, at: now });
    if (this.#acks.size > 1000) for (const [k, v] of this.#acks) if (now - v.at > 64 * this.timers.T1) this.#acks.delete(k);
  }

  async resolveUri(uri: string, defaultProtocol: TransportProtocol): Promise<Endpoint> {
    const u = parseUri(uri);
    const tp = typeof u.params['transport'] === 'string' ? (u.params['transport'] as string).toLowerCase() : undefined;
    const protocol: TransportProtocol = u.scheme === 'sips' ? 'tls' : tp === 'tcp' || tp === 'tls' || tp === 'udp' ? tp : defaultProtocol;
    const port = u.port ?? (protocol === 'tls' ? 5061 : 5060);
    const address = await this.#transport.resolve(u.host);
    return { protocol, address, port };
  }

  sendRequest(req: SipRequest, dest: Endpoint, opts: SendOptions = {}): RequestHandle {
    let resolveFinal!: (r: SipResponse) => void;
    const final = new Promise<SipResponse>((r) => { resolveFinal = r; });
    const challengedNonces = new Set<string>();
    let nc = 0;
    let finalDone = false;
    const handle = {} as RequestHandle;
    const launch = (r: SipRequest) => {
      let branch: string;
      const existing = r.headers.get('via');
      if (existing && r.method === 'CANCEL') {
        branch = parseVia(existing).params['branch'] ?? this.newBranch();
      } else {
        branch = this.newBranch();
        r.headers.delete('via');
        r.headers.prepend('via', `SIP/2.0/${dest.protocol.toUpperCase()} ${formatHost(this.advertisedAddress())}:${this.#portFor(dest.protocol)};branch=${branch};rport`);
      }
      const tx = new ClientTransaction(this.#host, r, dest, {
        response: (res, t) => {
          if (res.status < 200) { opts.provisional?.(res, t); return; }
          if (t.isInvite && res.status < 300 && t.state === 'accepted' && t.lastResponse !== res) {
            this.#resendAck(res);
            return;
          }
          if (finalDone) { if (t.isInvite && res.status < 300) this.#resendAck(res); return; }
          if ((res.status === 401 || res.status === 407) && opts.credentials && r.method !== 'CANCEL' && r.method !== 'ACK') {
            const ch = pickChallenge(res.headers.getAll(res.status === 401 ? 'www-authenticate' : 'proxy-authenticate'));
            if (ch && (!challengedNonces.has(ch.nonce)) && (challengedNonces.size === 0 || ch.stale)) {
              challengedNonces.add(ch.nonce);
              const next = cloneRequest(r);
              const seq = parseCSeq(r.headers.get('cseq') ?? '').seq + 1;
              next.headers.set('cseq', `${seq} ${r.method}`);
              opts.onCSeq?.(seq);
              next.headers.delete(res.status === 401 ? 'authorization' : 'proxy-authorization');
              next.headers.append(res.status === 401 ? 'authorization' : 'proxy-authorization', buildAuthorization(ch, {
                username: opts.credentials.username, password: opts.credentials.password, method: r.method, uri: r.uri, nc: ++nc,
              }));
              launch(next);
              return;
            }
          }
          finalDone = true;
          resolveFinal(res);
        },
        timeout: (_t, cause) => {
          const res = createResponse(r, cause === 'timeout' ? 408 : 503, cause === 'timeout' ? 'Request Timeout' : 'Service Unavailable');
          (res as SipResponse & { synthetic?: boolean }).synthetic = true;
          resolveFinal(res);
        },
      }, branch);
      handle.tx = tx;
      opts.onTransaction?.(tx);
      this.#clientTx.set(tx.key, tx);
      tx.start();
    };
    launch(req);
    handle.final = final;
    return handle;
  }

  #resendAck(res: SipResponse): void {
    const seq = parseCSeq(res.headers.get('cseq') ?? '').seq;
    const a = this.#acks.get(`${res.headers.get('call-id')}|${seq}`);
    if (a) void this.sendRaw(a.ack, a.dest).catch(() => undefined);
  }

  // ------------------------------------------------------------------ inbound

  #trace(direction: 'in' | 'out', raw: Buffer, ep: Endpoint): void {
    const t = this.#opts.trace;
    if (!t) return;
    const text = raw.toString('utf8');
    const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1];
    const entry: SipTraceEntry = {
      direction, protocol: ep.protocol, remote: `${ep.address}:${ep.port}`, callId,
      summary: text.slice(0, Math.max(0, text.indexOf('\r\n'))) || text.slice(0, 80), raw: text,
    };
    if (typeof t === 'function') { t(entry); return; }
    if (this.#opts.logger) this.#opts.logger.info({ sip: { direction, protocol: entry.protocol, remote: entry.remote, callId } , message: text }, `sip ${direction} ${entry.summary}`);
    else process.stderr.write(`[sip ${direction} ${entry.protocol} ${entry.remote} call-id=${callId ?? '-'}]\n${text}\n`);
  }

  #onParseError(err: SipParseError, source: Endpoint, raw: Buffer, partial: SipMessageError['partial']): void {
    this.#trace('in', raw, source);
    this.#parseErrors++;
    if (!partial || partial.method === undefined || partial.method === 'ACK') { this.#dropped++; return; }
    const h = partial.headers;
    if (!h.get('via') || !h.get('from') || !h.get('to') || !h.get('call-id') || !h.get('cseq')) { this.#dropped++; return; }
    if (this.#limiter.blocked(source.address)) { this.#dropped++; return; }
    let dest = source;
    try {
      const via = parseVia(h.get('via') as string);
      if (source.protocol === 'udp' && via.params['rport'] === undefined && via.port) dest = { ...source, port: via.port };
    } catch { /* answer to the source */ }
    const res = createResponse({ headers: h }, err.status, err.reason);
    res.headers.append('server', this.userAgent);
    this.#limiter.refuse(source.address);
    void this.sendRaw(res, dest).catch(() => undefined);
  }

  #onMessage(msg: SipMessage, source: Endpoint, raw: Buffer): void {
    this.#trace('in', raw, source);
    if (this.#closed) return;
    if (msg.type === 'response') this.#onResponse(msg);
    else this.#onRequest(msg, source);
  }

  #onResponse(res: SipResponse): void {
    let branch: string | undefined;
    try { branch = parseVia(res.headers.get('via') ?? '').params['branch'] ?? undefined; } catch { return; }
    const method = parseCSeq(res.headers.get('cseq') ?? '').method;
    const tx = branch ? this.#clientTx.get(`${branch}|${method}`) : undefined;
    if (tx) { tx.receive(res); return; }
    if (method === 'INVITE' && res.status >= 200 && res.status < 300) this.#resendAck(res);
  }

  #serverKey(req: SipRequest, via: ReturnType<typeof parseVia>, method: string): string {
    const branch = via.params['branch'];
    if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
    // RFC 2543 peers: match on the request's identity.
    return `${req.headers.get('call-id')}|${getTag(req.headers.get('from'))}|${parseCSeq(req.headers.get('cseq') ?? '').seq}|${req.headers.get('via')}|${method}`;
  }

  #onRequest(req: SipRequest, source: Endpoint): void {
    // RFC 3261 §18.2.1 + RFC 3581: received/rport on the top Via.
    const viaRaw = req.headers.get('via') as string;
    const via = parseVia(viaRaw);
    if (via.host !== source.address) via.params['received'] = source.address;
    if (via.params['rport'] === null) via.params['rport'] = String(source.port);
    req.headers.removeFirst('via');
    req.headers.prepend('via', formatVia(via));

    const method = req.method;
    const key = this.#serverKey(req, via, method === 'ACK' ? 'INVITE' : method);
    const toTag = getTag(req.headers.get('to'));
    const fromTag = getTag(req.headers.get('from')) ?? '';
    const callId = req.headers.get('call-id') as string;

    if (method === 'ACK') {
      const tx = this.#serverTx.get(key);
      if (tx && tx.state === 'completed') { tx.ack(); return; }
      if (toTag) this.#dialogs.get(`${callId}|${toTag}|${fromTag}`)?.handleRequest(req, undefined);
      return;
    }
    const existing = this.#serverTx.get(key);
    if (existing) { existing.retransmission(); return; }

    if (!toTag && method !== 'CANCEL' && method !== 'OPTIONS' && this.#limiter.blocked(source.address)) { this.#dropped++; return; }

    let dest: Endpoint = source;
    if (source.protocol === 'udp' && via.params['rport'] === undefined) dest = { ...source, port: via.port ?? 5060 };
    if (source.protocol === 'udp' && via.params['maddr']) dest = { ...dest, address: via.params['maddr'] as string };
    const tx = new ServerTransaction(this.#host, req, dest, key);
    this.#serverTx.set(key, tx);
    const reply = (status: number, reason?: string, headers: [string, string][] = []) => {
      const res = createResponse(req, status, reason, { toTag: toTag ?? this.newTag() });
      for (const [n, v] of headers) res.headers.append(n, v);
      this.respond(tx, res);
    };

    if (method === 'CANCEL') {
      const inv = this.#serverTx.get(this.#serverKey(req, via, 'INVITE'));
      if (!inv) { reply(481); return; }
      reply(200);
      const call = this.#calls.get(inv);
      if (call) call.cancelled();
      else if (!inv.lastResponse || inv.lastResponse.status < 200) this.respond(inv, createResponse(inv.request, 487, undefined, { toTag: this.newTag() }));
      return;
    }

    const mf = req.headers.get('max-forwards');
    if (mf !== undefined && Number(mf) === 0 && method !== 'OPTIONS') { reply(483); return; }

    const unsupported = tokenList(req.headers, 'require').filter((t) => !ACCEPTED_REQUIRE.has(t));
    if (unsupported.length) { reply(420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]]); return; }

    if (toTag) {
      const d = this.#dialogs.get(`${callId}|${toTag}|${fromTag}`);
      if (d) { d.handleRequest(req, tx); return; }
      const e = this.#early.get(`${callId}|${toTag}|${fromTag}`);
      if (e) { e.handleEarlyRequest(req, tx); return; }
      reply(481);
      return;
    }

    const mk = mergeKey(req);
    if (mk) {
      const prev = this.#merged.get(mk);
      if (prev && prev !== key && this.#serverTx.has(prev)) { reply(482); return; }
      this.#merged.set(mk, key);
    }

    switch (method) {
      case 'INVITE':
        void this.#onInvite(req, tx, source).catch((e: unknown) => {
          process.emitWarning(`sip: INVITE handling failed: ${e instanceof Error ? e.message : String(e)}`);
          if (!tx.lastResponse || tx.lastResponse.status < 200) reply(500);
        });
        return;
      case 'OPTIONS':
        reply(200, undefined, [['Allow', ALLOW.join(', ')], ['Accept', 'application/sdp'], ['Supported', SUPPORTED.join(', ')]]);
        return;
      case 'BYE': case 'PRACK': case 'UPDATE': case 'INFO': case 'NOTIFY':
        reply(481);
        return;
      default:
        if (KNOWN_UNSUPPORTED.has(method)) reply(405, undefined, [['Allow', ALLOW.join(', ')]]);
        else reply(501, undefined, [['Allow', ALLOW.join(', ')]]);
    }
  }

  async #onInvite(req: SipRequest, tx: ServerTransaction, source: Endpoint): Promise<void> {
    const trying = createResponse(req, 100);
    this.respond(tx, trying);
    const tag = this.newTag();
    const reply = (status: number, reason?: string, headers: [string, string][] = []) => {
      const res = createResponse(req, status, reason, { toTag: tag });
      for (const [n, v] of headers) res.headers.append(n, v);
      this.respond(tx, res);
    };
    const ct = (req.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (req.body.length && ct !== 'application/sdp') { reply(415, undefined, [['Accept', 'application/sdp']]); return; }
    const st = negotiateSessionTimer(req, this.sessionTimer.minSE);
    if (st && 'reject422' in st) { reply(422, undefined, [['Min-SE', String(this.sessionTimer.minSE)]]); return; }

    let trunkId: string | undefined;
    const decision: AuthorizeResult = this.#opts.authorize ? await this.#opts.authorize(req, source) : { allow: true };
    if ('challenge' in decision) {
      const proxy = (this.#opts.challengeStatus ?? 407) === 407;
      const hdr = req.headers.get(proxy ? 'proxy-authorization' : 'authorization');
      const cred = hdr ? parseCredentials(hdr) : undefined;
      const challenge = (stale: boolean) => reply(proxy ? 407 : 401, undefined,
        this.#digest.challenges(decision.challenge.realm, stale).map((v) => [proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate', v] as [string, string]));
      if (!cred) { challenge(false); return; }
      const secret = await decision.challenge.lookup(cred.username);
      const password = typeof secret === 'string' ? secret : secret?.password;
      const verdict = password === undefined ? 'bad' : this.#digest.verify(cred, 'INVITE', decision.challenge.realm, password);
      if (verdict === 'stale') { challenge(true); return; }
      if (verdict === 'bad') { this.#refuse(req, tx, source, tag); return; }
      trunkId = (typeof secret === 'object' ? secret.trunkId : undefined) ?? decision.challenge.trunkId;
    } else if (!decision.allow) {
      this.#refuse(req, tx, source, tag);
      return;
    } else trunkId = decision.trunkId;

    if (tx.cancelled || (tx.lastResponse && tx.lastResponse.status >= 200)) return;
    const call = new IncomingCall(this, {
      request: req, tx, source,
      ...(trunkId !== undefined ? { trunkId } : {}),
      ...(this.#opts.e164 ? { e164: this.#opts.e164 } : {}),
      ...(st ? { sessionTimer: st } : {}),
    });
    this.#calls.set(tx, call);
    if (!this.#opts.onCall) { call.reject(480); return; }
    this.#opts.onCall(call);
  }

  #refuse(req: SipRequest, tx: ServerTransaction, source: Endpoint, tag: string): void {
    if (this.#limiter.refuse(source.address)) {
      this.respond(tx, createResponse(req, 403, 'Forbidden', { toTag: tag }));
    } else {
      this.#dropped++;
      tx.abort();
    }
  }
}

function mergeKey(req: SipRequest): string | undefined {
  if (getTag(req.headers.get('to'))) return undefined;
  if (req.method === 'ACK' || req.method === 'CANCEL') return undefined;
  const ft = getTag(req.headers.get('from'));
  if (!ft) return undefined;
  return `${ft}|${req.headers.get('call-id')}|${req.headers.get('cseq')}`;
}

function cloneRequest(r: SipRequest): SipRequest {
  return { type: 'request', method: r.method, uri: r.uri, version: r.version, headers: r.headers.clone(), body: r.body };
}
