/**
 * A confirmed INVITE dialog (RFC 3261 §12): route set, remote target refresh, CSeq, in-dialog
 * requests both ways, re-INVITE/UPDATE offer/answer with hold (RFC 3264), session timers
 * (RFC 4028), REFER with NOTIFY progress (RFC 3515), INFO DTMF.
 */
import { TypedEmitter } from './emitter.js';
import {
  SIP_VERSION, SipHeaders, createResponse, formatNameAddr, parseNameAddr, parseParams, parseCSeq, tokenList,
} from './message.js';
import type { NameAddr, SipRequest, SipResponse } from './message.js';
import { createAnswer, createOffer, processAnswer, SdpError, parseSdp } from './sdp.js';
import type { LocalMedia, NegotiatedMedia, Direction } from './sdp.js';
import { SipError } from './errors.js';
import type { SipCore } from './core.js';
import { synthetic } from './core.js';
import type { Endpoint, TransportProtocol } from './transport.js';
import type { ServerTransaction } from './transaction.js';

export type DialogCloseReason =
  | 'local-bye' | 'remote-bye' | 'session-expired' | 'ack-timeout' | 'refresh-failed' | 'stack-closed';

export type DialogEvent =
  | { type: 'bye'; request: SipRequest }
  | { type: 'reinvite'; remoteSdp?: string; media?: NegotiatedMedia; hold: boolean }
  | { type: 'update'; remoteSdp?: string; media?: NegotiatedMedia; hold: boolean }
  | { type: 'refer-progress'; status: number; reason: string; final: boolean }
  | { type: 'info'; contentType: string; body: string }
  | { type: 'dtmf'; digit: string; durationMs: number }
  | { type: 'session-refresh'; by: 'local' | 'remote'; expires: number }
  | { type: 'closed'; reason: DialogCloseReason };

export interface ReferResult {
  /** The REFER itself was accepted (2xx). */
  accepted: boolean;
  /** Final status: from the last NOTIFY sipfrag, or the REFER's own failure response. */
  status: number;
  reason: string;
}

export interface ReferOptions {
  /** Referred-By value (default: our local URI). */
  referredBy?: string;
  /** How long to wait for the final NOTIFY (default 60 s). */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface ModifyOptions {
  media?: LocalMedia;
  /** Put the peer on hold (offer sendonly) or resume (sendrecv). */
  hold?: boolean;
  /** Default INVITE. */
  method?: 'INVITE' | 'UPDATE';
}

export interface DialogInit {
  direction: 'inbound' | 'outbound';
  callId: string;
  localTag: string;
  remoteTag: string;
  local: NameAddr;
  remote: NameAddr;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq?: number;
  protocol: TransportProtocol;
  peer: Endpoint;
  trunkId?: string;
  localMedia?: LocalMedia;
  localSdp?: string;
  remoteSdp?: string;
  media?: NegotiatedMedia;
  sdpSessionId: string;
  sdpVersion: number;
  credentials?: { username: string; password: string };
  remoteAllow: string[];
  remoteSupported: string[];
  sessionTimer?: { interval: number; refresher: 'local' | 'remote' };
  initialRequest: SipRequest;
}

type Timer = ReturnType<typeof setTimeout>;

interface PendingAck {
  tx: ServerTransaction;
  lateOffer: boolean;
  method: 'reinvite';
}

const DTMF_DIGITS = /^[0-9*#A-Da-d]$/;

export class Dialog extends TypedEmitter<DialogEvent> {
  readonly direction: 'inbound' | 'outbound';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly trunkId: string | undefined;
  /** The INVITE that created the dialog. */
  readonly initialRequest: SipRequest;
  state: 'confirmed' | 'terminated' = 'confirmed';
  localSdp: string | undefined;
  remoteSdp: string | undefined;
  /** Current negotiated media (undefined while a late offer waits for the ACK). */
  media: NegotiatedMedia | undefined;
  /** We hold the peer. */
  localHold = false;
  closeReason: DialogCloseReason | undefined;

  readonly #core: SipCore;
  readonly #local: NameAddr;
  readonly #remote: NameAddr;
  #remoteTarget: string;
  readonly #routeSet: string[];
  #localSeq: number;
  #remoteSeq: number | undefined;
  readonly #protocol: TransportProtocol;
  readonly #peer: Endpoint;
  #localMedia: LocalMedia | undefined;
  readonly #sdpSessionId: string;
  #sdpVersion: number;
  readonly #credentials: { username: string; password: string } | undefined;
  #remoteAllow: string[];
  #remoteSupported: string[];
  #st: { interval: number; refresher: 'local' | 'remote' } | undefined;
  #stTimer: Timer | undefined;
  #pendingAcks = new Map<number, PendingAck>();
  #inviteOut = false;
  #referWaiters = new Set<(r: ReferResult, final: boolean) => void>();
  #closedPromise: Promise<DialogCloseReason>;
  #resolveClosed!: (r: DialogCloseReason) => void;
  #ackWaiter: ((req: SipRequest | undefined) => void) | undefined;

  constructor(core: SipCore, init: DialogInit) {
    super();
    this.#core = core;
    this.direction = init.direction;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.trunkId = init.trunkId;
    this.initialRequest = init.initialRequest;
    this.#local = init.local;
    this.#remote = init.remote;
    this.#remoteTarget = init.remoteTarget;
    this.#routeSet = init.routeSet;
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
    this.#protocol = init.protocol;
    this.#peer = init.peer;
    this.#localMedia = init.localMedia;
    this.localSdp = init.localSdp;
    this.remoteSdp = init.remoteSdp;
    this.media = init.media;
    this.#sdpSessionId = init.sdpSessionId;
    this.#sdpVersion = init.sdpVersion;
    this.#credentials = init.credentials;
    this.#remoteAllow = init.remoteAllow;
    this.#remoteSupported = init.remoteSupported;
    this.#st = init.sessionTimer;
    this.#closedPromise = new Promise((r) => { this.#resolveClosed = r; });
  }

  /** Stable dialog id: Call-ID;local-tag;remote-tag. */
  get id(): string {
    return `${this.callId};${this.localTag};${this.remoteTag}`;
  }
  get key(): string {
    return `${this.callId}|${this.localTag}|${this.remoteTag}`;
  }
  get remoteTarget(): string {
    return this.#remoteTarget;
  }
  get routeSet(): readonly string[] {
    return this.#routeSet;
  }
  get remoteIdentity(): NameAddr {
    return this.#remote;
  }
  get localIdentity(): NameAddr {
    return this.#local;
  }
  get sessionTimer(): { interval: number; refresher: 'local' | 'remote' } | undefined {
    return this.#st ? { ...this.#st } : undefined;
  }
  get remoteHold(): boolean {
    return this.media?.remoteHold ?? false;
  }
  /** Resolves with the close reason. */
  get closed(): Promise<DialogCloseReason> {
    return this.#closedPromise;
  }

  // ---------------------------------------------------------------- lifecycle (stack side)

  /** Called by the stack once the dialog is registered. */
  activate(): void {
    this.#armSessionTimer();
  }

  /** Wait for the ACK of the initial 2xx (inbound). */
  expectAck(tx: ServerTransaction, lateOffer: boolean): Promise<SipRequest | undefined> {
    const seq = parseCSeq(tx.request.headers.get('cseq') ?? '').seq;
    this.#pendingAcks.set(seq, { tx, lateOffer, method: 'reinvite' });
    tx.tu = {
      ackTimeout: () => {
        this.#pendingAcks.delete(seq);
        const w = this.#ackWaiter;
        this.#ackWaiter = undefined;
        if (w) w(undefined);
        else void this.#terminate('ack-timeout', true);
      },
    };
    return new Promise((resolve) => { this.#ackWaiter = resolve; });
  }

  // ---------------------------------------------------------------- in-dialog requests from the peer

  handleRequest(req: SipRequest, tx: ServerTransaction | undefined): void {
    if (req.method === 'ACK') { this.#onAck(req); return; }
    if (!tx) return;
    const cseq = parseCSeq(req.headers.get('cseq') ?? '');
    if (this.state === 'terminated') { this.#reply(tx, req, 481); return; }
    if (this.#remoteSeq !== undefined && cseq.seq <= this.#remoteSeq && req.method !== 'PRACK') {
      this.#reply(tx, req, 500, 'CSeq Out of Order');
      return;
    }
    this.#remoteSeq = cseq.seq;
    switch (req.method) {
      case 'BYE':
        this.#reply(tx, req, 200);
        this.emit({ type: 'bye', request: req });
        void this.#terminate('remote-bye', false);
        return;
      case 'INVITE':
        this.#onReinvite(req, tx);
        return;
      case 'UPDATE':
        this.#onUpdate(req, tx);
        return;
      case 'INFO':
        this.#onInfo(req, tx);
        return;
      case 'NOTIFY':
        this.#onNotify(req, tx);
        return;
      case 'OPTIONS':
        this.#reply(tx, req, 200, undefined, this.#capabilityHeaders());
        return;
      case 'PRACK':
        this.#reply(tx, req, 200);
        return;
      default:
        if (['REFER', 'SUBSCRIBE', 'MESSAGE', 'PUBLISH', 'REGISTER'].includes(req.method)) {
          this.#reply(tx, req, 405, undefined, [['Allow', this.#core.allow.join(', ')]]);
        } else {
          this.#reply(tx, req, 501, undefined, [['Allow', this.#core.allow.join(', ')]]);
        }
    }
  }

  #capabilityHeaders(): [string, string][] {
    return [['Allow', this.#core.allow.join(', ')], ['Accept', 'application/sdp'], ['Supported', this.#core.supported.join(', ')]];
  }

  #reply(tx: ServerTransaction, req: SipRequest, status: number, reason?: string, headers: [string, string][] = [], body?: { type: string; data: string }): SipResponse {
    const res = createResponse(req, status, reason, { toTag: this.localTag });
    for (const [n, v] of headers) res.headers.append(n, v);
    if ((req.method === 'INVITE' || req.method === 'UPDATE') && status >= 200 && status < 300) {
      res.headers.append('contact', this.#core.contact(this.#protocol, this.#local.uri ? userOf(this.#local.uri) : undefined));
    }
    if (body) {
      res.headers.set('content-type', body.type);
      res.body = Buffer.from(body.data);
    }
    this.#core.respond(tx, res);
    return res;
  }

  #refreshTarget(req: SipRequest): void {
    const c = req.headers.get('contact');
    if (c) {
      try { this.#remoteTarget = parseNameAddr(c).uri; } catch { /* keep */ }
    }
    const allow = tokenList(req.headers, 'allow');
    if (allow.length) this.#remoteAllow = allow.map((m) => m.toUpperCase());
    const sup = tokenList(req.headers, 'supported');
    if (sup.length) this.#remoteSupported = sup;
  }

  /** Session-Expires handling on a refresh request from the peer; returns headers for the 2xx or a 422. */
  #sessionTimerFromRequest(req: SipRequest): { headers: [string, string][] } | { reject: number } {
    const se = req.headers.get('session-expires');
    if (!se) {
      if (this.#st) this.#armSessionTimer();
      return { headers: [] };
    }
    const [val, ...rest] = se.split(';');
    const interval = Number(val?.trim());
    const params = parseParams(rest.length ? ';' + rest.join(';') : '');
    if (!Number.isFinite(interval) || interval < this.#core.sessionTimer.minSE) return { reject: 422 };
    const refParam = params['refresher'];
    const refresher: 'local' | 'remote' = refParam === 'uas' ? 'local' : 'remote';
    this.#st = { interval, refresher };
    this.#armSessionTimer();
    const headers: [string, string][] = [['Session-Expires', `${interval};refresher=${refresher === 'local' ? 'uas' : 'uac'}`]];
    if (tokenList(req.headers, 'supported').includes('timer')) headers.push(['Require', 'timer']);
    this.emit({ type: 'session-refresh', by: 'remote', expires: interval });
    return { headers };
  }

  #nextSdp(kind: 'offer', direction: Direction): string;
  #nextSdp(kind: 'answer', direction: Direction, offer: string): { sdp: string; media: NegotiatedMedia };
  #nextSdp(kind: 'offer' | 'answer', direction: Direction, offer?: string): string | { sdp: string; media: NegotiatedMedia } {
    const local = this.#localMedia;
    if (!local) throw new SdpError('SDP_NO_COMMON_CODEC', 'no local media description to negotiate with');
    const session = { sessionId: this.#sdpSessionId, version: this.#sdpVersion + 1 };
    const out = kind === 'offer' ? createOffer(local, session, direction) : createAnswer(offer as string, local, session, direction);
    this.#sdpVersion++;
    return out;
  }

  #sameRemoteVersion(sdp: string): boolean {
    if (!this.remoteSdp) return false;
    try {
      const a = parseSdp(sdp).origin;
      const b = parseSdp(this.remoteSdp).origin;
      return String(a.sessionId) === String(b.sessionId) && a.sessionVersion === b.sessionVersion;
    } catch { return false; }
  }

  #onReinvite(req: SipRequest, tx: ServerTransaction): void {
    if (this.#inviteOut) { this.#reply(tx, req, 491); return; }
    if (this.#pendingAcks.size) { this.#reply(tx, req, 500, 'Server Internal Error', [['Retry-After', String(1 + Math.floor(Math.random() * 10))]]); return; }
    const stRes = this.#sessionTimerFromRequest(req);
    if ('reject' in stRes) { this.#reply(tx, req, 422, undefined, [['Min-SE', String(this.#core.sessionTimer.minSE)]]); return; }
    this.#refreshTarget(req);
    const want: Direction = this.localHold ? 'sendonly' : 'sendrecv';
    const seq = parseCSeq(req.headers.get('cseq') ?? '').seq;
    const offer = req.body.length ? req.body.toString('utf8') : undefined;
    let answerSdp: string;
    let media: NegotiatedMedia | undefined;
    let changed = false;
    try {
      if (offer === undefined) {
        answerSdp = this.#nextSdp('offer', want);
      } else if (this.#sameRemoteVersion(offer) && this.localSdp) {
        answerSdp = this.localSdp; // pure refresh: unchanged session (RFC 3264 §8)
      } else {
        const r = this.#nextSdp('answer', want, offer);
        answerSdp = r.sdp;
        media = r.media;
        changed = true;
      }
    } catch (e) {
      if (e instanceof SdpError) { this.#reply(tx, req, 488); return; }
      throw e;
    }
    this.localSdp = answerSdp;
    this.#pendingAcks.set(seq, { tx, lateOffer: offer === undefined, method: 'reinvite' });
    tx.tu = { ackTimeout: () => { this.#pendingAcks.delete(seq); } };
    this.#reply(tx, req, 200, undefined, [...stRes.headers, ...this.#capabilityHeaders()], { type: 'application/sdp', data: answerSdp });
    if (changed && offer !== undefined && media) {
      this.remoteSdp = offer;
      this.media = media;
      this.emit({ type: 'reinvite', remoteSdp: offer, media, hold: media.remoteHold });
    } else if (offer !== undefined && !stRes.headers.length) {
      this.emit({ type: 'session-refresh', by: 'remote', expires: this.#st?.interval ?? 0 });
    }
  }

  #onUpdate(req: SipRequest, tx: ServerTransaction): void {
    const stRes = this.#sessionTimerFromRequest(req);
    if ('reject' in stRes) { this.#reply(tx, req, 422, undefined, [['Min-SE', String(this.#core.sessionTimer.minSE)]]); return; }
    this.#refreshTarget(req);
    if (!req.body.length) {
      this.#reply(tx, req, 200, undefined, stRes.headers);
      if (!stRes.headers.length) this.emit({ type: 'session-refresh', by: 'remote', expires: this.#st?.interval ?? 0 });
      return;
    }
    if (this.#inviteOut) { this.#reply(tx, req, 491); return; }
    const offer = req.body.toString('utf8');
    try {
      const r = this.#nextSdp('answer', this.localHold ? 'sendonly' : 'sendrecv', offer);
      this.localSdp = r.sdp;
      this.remoteSdp = offer;
      this.media = r.media;
      this.#reply(tx, req, 200, undefined, stRes.headers, { type: 'application/sdp', data: r.sdp });
      this.emit({ type: 'update', remoteSdp: offer, media: r.media, hold: r.media.remoteHold });
    } catch (e) {
      if (e instanceof SdpError) { this.#reply(tx, req, 488); return; }
      throw e;
    }
  }

  #onAck(req: SipRequest): void {
    const seq = parseCSeq(req.headers.get('cseq') ?? '').seq;
    const p = this.#pendingAcks.get(seq);
    if (!p) return;
    this.#pendingAcks.delete(seq);
    p.tx.ack2xx();
    const w = this.#ackWaiter;
    if (w && p.tx.request === this.initialRequest) {
      this.#ackWaiter = undefined;
      w(req);
      return;
    }
    if (p.lateOffer && req.body.length) {
      const answer = req.body.toString('utf8');
      try {
        const media = processAnswer(answer, this.#localMedia as LocalMedia);
        this.remoteSdp = answer;
        this.media = media;
        this.emit({ type: 'reinvite', remoteSdp: answer, media, hold: media.remoteHold });
      } catch {
        void this.bye();
      }
    }
  }

  #onInfo(req: SipRequest, tx: ServerTransaction): void {
    const ct = (req.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const body = req.body.toString('utf8');
    this.#reply(tx, req, 200);
    if (ct === 'application/dtmf-relay') {
      const sig = /signal\s*=\s*([0-9*#A-Da-d])/i.exec(body)?.[1];
      const dur = Number(/duration\s*=\s*(\d+)/i.exec(body)?.[1] ?? 250);
      if (sig) { this.emit({ type: 'dtmf', digit: sig.toUpperCase(), durationMs: dur }); return; }
    } else if (ct === 'application/dtmf') {
      const d = body.trim();
      if (DTMF_DIGITS.test(d)) { this.emit({ type: 'dtmf', digit: d.toUpperCase(), durationMs: 250 }); return; }
    }
    this.emit({ type: 'info', contentType: ct, body });
  }

  #onNotify(req: SipRequest, tx: ServerTransaction): void {
    const event = (req.headers.get('event') ?? '').split(';')[0]?.trim().toLowerCase();
    if (event !== 'refer') { this.#reply(tx, req, 489); return; }
    this.#reply(tx, req, 200);
    const frag = req.body.toString('utf8');
    const m = /^SIP\/2\.0\s+(\d{3})\s*([^\r\n]*)/.exec(frag.trim());
    const subState = (req.headers.get('subscription-state') ?? '').split(';')[0]?.trim().toLowerCase();
    if (!m) {
      if (subState === 'terminated') for (const w of [...this.#referWaiters]) w({ accepted: true, status: 500, reason: 'No result' }, true);
      return;
    }
    const status = Number(m[1]);
    const reason = m[2] ?? '';
    const final = status >= 200 || subState === 'terminated';
    this.emit({ type: 'refer-progress', status, reason, final });
    for (const w of [...this.#referWaiters]) w({ accepted: true, status, reason }, final);
  }

  // ---------------------------------------------------------------- requests we send

  #buildRequest(method: string, headers: [string, string][] = [], body?: { type: string; data: string | Buffer }, seq?: number): SipRequest {
    const h = new SipHeaders();
    let uri = this.#remoteTarget;
    let routes = [...this.#routeSet];
    const first = routes[0];
    if (first) {
      try {
        const na = parseNameAddr(first);
        if (!/;lr(=|;|>|$)/i.test(na.uri)) {
          // Strict router (RFC 3261 §12.2.1.1).
          uri = na.uri;
          routes = [...routes.slice(1), `<${this.#remoteTarget}>`];
        }
      } catch { /* keep loose routing */ }
    }
    for (const r of routes) h.append('route', r);
    h.append('max-forwards', '70');
    h.append('from', formatNameAddr({ ...this.#local, params: { ...this.#local.params, tag: this.localTag } }));
    h.append('to', formatNameAddr({ ...this.#remote, params: { ...this.#remote.params, tag: this.remoteTag } }));
    h.append('call-id', this.callId);
    const n = seq ?? ++this.#localSeq;
    h.append('cseq', `${n} ${method}`);
    if (['INVITE', 'UPDATE', 'REFER', 'NOTIFY', 'SUBSCRIBE'].includes(method)) {
      h.append('contact', this.#core.contact(this.#protocol, userOf(this.#local.uri)));
    }
    h.append('user-agent', this.#core.userAgent);
    for (const [k, v] of headers) h.append(k, v);
    const req: SipRequest = { type: 'request', method, uri, version: SIP_VERSION, headers: h, body: Buffer.alloc(0) };
    if (body) {
      h.append('content-type', body.type);
      req.body = Buffer.isBuffer(body.data) ? body.data : Buffer.from(body.data);
    }
    return req;
  }

  async #dest(): Promise<Endpoint> {
    const first = this.#routeSet[0];
    if (first) return this.#core.resolveUri(parseNameAddr(first).uri, this.#protocol);
    if (this.direction === 'inbound') return this.#peer;
    return this.#core.resolveUri(this.#remoteTarget, this.#protocol);
  }

  /** Send any in-dialog request and wait for its final response. */
  async request(method: string, opts: { headers?: [string, string][]; body?: { type: string; data: string | Buffer } } = {}): Promise<SipResponse> {
    if (this.state === 'terminated' && method !== 'BYE') throw new SipError(481, 'Dialog terminated');
    const req = this.#buildRequest(method, opts.headers, opts.body);
    const dest = await this.#dest();
    const h = this.#core.sendRequest(req, dest, {
      ...(this.#credentials ? { credentials: this.#credentials } : {}),
      onCSeq: (n) => { this.#localSeq = Math.max(this.#localSeq, n); },
    });
    return h.final;
  }

  async #sendAck(res: SipResponse, body?: string): Promise<void> {
    const seq = parseCSeq(res.headers.get('cseq') ?? '').seq;
    const ack = this.#buildRequest('ACK', [], body ? { type: 'application/sdp', data: body } : undefined, seq);
    ack.headers.delete('contact');
    ack.headers.prepend('via', `SIP/2.0/${this.#protocol.toUpperCase()} ${this.#core.advertisedAddress()};branch=${this.#core.newBranch()};rport`);
    const dest = await this.#dest();
    this.#core.cacheAck(this.callId, seq, ack, dest);
    await this.#core.sendRaw(ack, dest).catch(() => undefined);
  }

  /** End the call with BYE. Resolves when the BYE completes (or times out). Idempotent. */
  async bye(headers: [string, string][] = []): Promise<void> {
    if (this.state === 'terminated') return;
    await this.#terminate('local-bye', true, headers);
  }

  async #terminate(reason: DialogCloseReason, sendBye: boolean, headers: [string, string][] = []): Promise<void> {
    if (this.state === 'terminated') return;
    let byeDone: Promise<unknown> | undefined;
    if (sendBye) {
      const req = this.#buildRequest('BYE', headers);
      byeDone = this.#dest().then((dest) => this.#core.sendRequest(req, dest, this.#credentials ? { credentials: this.#credentials } : {}).final).catch(() => undefined);
    }
    this.#close(reason);
    await byeDone;
  }

  #close(reason: DialogCloseReason): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.closeReason = reason;
    if (this.#stTimer) clearTimeout(this.#stTimer);
    this.#stTimer = undefined;
    for (const w of [...this.#referWaiters]) w({ accepted: false, status: 481, reason: 'Dialog terminated' }, true);
    const aw = this.#ackWaiter;
    this.#ackWaiter = undefined;
    aw?.(undefined);
    this.#core.removeDialog(this);
    this.emit({ type: 'closed', reason });
    this.#resolveClosed(reason);
  }

  /** Stack shutdown: BYE and close. */
  shutdown(): Promise<void> {
    return this.#terminate('stack-closed', true);
  }

  /** Re-negotiate: new media description, hold or resume. Resolves with the new media. */
  async modify(opts: ModifyOptions = {}): Promise<NegotiatedMedia> {
    if (this.state === 'terminated') throw new SipError(481, 'Dialog terminated');
    if (this.#inviteOut || this.#pendingAcks.size) throw new SipError(491, 'Request Pending');
    if (opts.media) this.#localMedia = opts.media;
    const hold = opts.hold ?? this.localHold;
    const method = opts.method ?? 'INVITE';
    for (let attempt = 0; ; attempt++) {
      const offer = this.#nextSdp('offer', hold ? 'sendonly' : 'sendrecv');
      this.#inviteOut = true;
      let res: SipResponse;
      try {
        res = await this.request(method, { headers: this.#refreshHeaders(), body: { type: 'application/sdp', data: offer } });
      } finally {
        this.#inviteOut = false;
      }
      if (res.status >= 200 && res.status < 300) {
        if (method === 'INVITE') await this.#sendAck(res);
        this.#sessionTimerFromResponse(res);
        this.localSdp = offer;
        this.localHold = hold;
        this.#refreshTargetFromResponse(res);
        if (!res.body.length) throw new SipError(488, 'No SDP answer');
        const answer = res.body.toString('utf8');
        const media = processAnswer(answer, this.#localMedia as LocalMedia);
        this.remoteSdp = answer;
        this.media = media;
        return media;
      }
      if (res.status === 491 && attempt === 0) {
        await new Promise((r) => setTimeout(r, (this.direction === 'outbound' ? 2100 : 0) + Math.random() * 2000));
        continue;
      }
      if ((res.status === 408 || res.status === 481) && !synthetic(res)) void this.#terminate('refresh-failed', res.status === 408);
      throw new SipError(res.status, res.reason);
    }
  }

  #refreshTargetFromResponse(res: SipResponse): void {
    const c = res.headers.get('contact');
    if (c) {
      try { this.#remoteTarget = parseNameAddr(c).uri; } catch { /* keep */ }
    }
  }

  #refreshHeaders(): [string, string][] {
    const h: [string, string][] = [['Supported', this.#core.supported.join(', ')], ['Allow', this.#core.allow.join(', ')]];
    if (this.#st) {
      h.push(['Session-Expires', `${this.#st.interval};refresher=${this.#st.refresher === 'local' ? 'uac' : 'uas'}`]);
      h.push(['Min-SE', String(this.#core.sessionTimer.minSE)]);
    }
    return h;
  }

  #sessionTimerFromResponse(res: SipResponse): void {
    const se = res.headers.get('session-expires');
    if (!se) return;
    const [val, ...rest] = se.split(';');
    const interval = Number(val?.trim());
    if (!Number.isFinite(interval) || interval <= 0) return;
    const params = parseParams(rest.length ? ';' + rest.join(';') : '');
    // We are the UAC of this request: refresher=uac means us.
    this.#st = { interval, refresher: params['refresher'] === 'uas' ? 'remote' : 'local' };
    this.#armSessionTimer();
  }

  #armSessionTimer(): void {
    if (this.#stTimer) clearTimeout(this.#stTimer);
    this.#stTimer = undefined;
    const st = this.#st;
    if (!st || this.state === 'terminated') return;
    if (st.refresher === 'local') {
      this.#stTimer = setTimeout(() => void this.#refreshSession(), (st.interval * 1000) / 2);
    } else {
      const ms = (st.interval - Math.min(32, st.interval / 3)) * 1000;
      this.#stTimer = setTimeout(() => void this.#terminate('session-expired', true), ms);
    }
    this.#stTimer.unref?.();
  }

  async #refreshSession(): Promise<void> {
    if (this.state === 'terminated' || !this.#st) return;
    if (this.#inviteOut || this.#pendingAcks.size) { this.#stTimer = setTimeout(() => void this.#refreshSession(), 1000); return; }
    const useUpdate = this.#remoteAllow.includes('UPDATE');
    this.#inviteOut = !useUpdate;
    let res: SipResponse;
    try {
      res = await this.request(useUpdate ? 'UPDATE' : 'INVITE', {
        headers: this.#refreshHeaders(),
        ...(!useUpdate && this.localSdp ? { body: { type: 'application/sdp', data: this.localSdp } } : {}),
      });
    } catch {
      return;
    } finally {
      this.#inviteOut = false;
    }
    if ((this.state as string) === 'terminated') return;
    if (res.status >= 200 && res.status < 300) {
      if (!useUpdate) await this.#sendAck(res);
      this.#refreshTargetFromResponse(res);
      if (res.headers.get('session-expires')) this.#sessionTimerFromResponse(res);
      else this.#armSessionTimer();
      this.emit({ type: 'session-refresh', by: 'local', expires: this.#st?.interval ?? 0 });
      return;
    }
    if (res.status === 422) {
      const min = Number(res.headers.get('min-se')?.split(';')[0]);
      if (this.#st && Number.isFinite(min) && min > this.#st.interval) { this.#st.interval = min; void this.#refreshSession(); return; }
    }
    if (res.status === 491) { this.#stTimer = setTimeout(() => void this.#refreshSession(), 2000 + Math.random() * 2000); return; }
    if (res.status === 408 || res.status === 481) { void this.#terminate('refresh-failed', res.status === 408); return; }
    // Other failures leave the session as it was (RFC 4028 §10): try again at the next half interval.
    this.#armSessionTimer();
  }

  /** Transfer (RFC 3515). Refer-To is sent exactly as given (wrapped in <> unless it already is). */
  refer(referTo: string, opts: ReferOptions = {}): Promise<ReferResult> {
    const target = referTo.trim().startsWith('<') ? referTo.trim() : `<${referTo.trim()}>`;
    const headers: [string, string][] = [
      ['Refer-To', target],
      ['Referred-By', opts.referredBy ?? `<${this.#local.uri}>`],
      ...Object.entries(opts.headers ?? {}),
    ];
    return new Promise<ReferResult>((resolve) => {
      let last: ReferResult | undefined;
      let settled = false;
      const finish = (r: ReferResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#referWaiters.delete(waiter);
        resolve(r);
      };
      const waiter = (r: ReferResult, final: boolean) => { last = r; if (final) finish(r); };
      this.#referWaiters.add(waiter);
      const timer = setTimeout(() => finish(last ?? { accepted: true, status: 408, reason: 'No final NOTIFY' }), opts.timeoutMs ?? 60_000);
      timer.unref?.();
      this.request('REFER', { headers }).then(
        (res) => {
          if (res.status < 200 || res.status >= 300) {
            this.emit({ type: 'refer-progress', status: res.status, reason: res.reason, final: true });
            finish({ accepted: false, status: res.status, reason: res.reason });
          }
        },
        () => finish({ accepted: false, status: 500, reason: 'REFER failed' }),
      );
    });
  }

  /** Send INFO with any body. */
  info(contentType: string, body: string): Promise<SipResponse> {
    return this.request('INFO', { body: { type: contentType, data: body } });
  }

  /** DTMF by SIP INFO (application/dtmf-relay), the fallback when RFC 4733 is not negotiated. */
  sendDtmf(digit: string, durationMs = 160): Promise<SipResponse> {
    if (!DTMF_DIGITS.test(digit)) throw new SipError(400, 'invalid DTMF digit');
    return this.info('application/dtmf-relay', `Signal=${digit}\r\nDuration=${durationMs}\r\n`);
  }

  /** For outbound dialogs: the stack sends the ACK of the initial 2xx through here. */
  ackInitial(res: SipResponse, body?: string): Promise<void> {
    return this.#sendAck(res, body);
  }
}

export function userOf(uri: string): string | undefined {
  const m = /^sips?:([^@;?]+)@/i.exec(uri);
  return m ? m[1] : undefined;
}
