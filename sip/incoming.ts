/** An incoming INVITE the engine can answer, reject, or see cancelled (UAS side). */
import { TypedEmitter } from './emitter.js';
import { createResponse, parseNameAddr, parseParams, parseCSeq, tokenList, getTag, parseUri } from './message.js';
import type { NameAddr, SipRequest, SipResponse } from './message.js';
import { createAnswer, createOffer, processAnswer, SdpError } from './sdp.js';
import type { LocalMedia, NegotiatedMedia } from './sdp.js';
import { CallFailedError, SipError, SipTransportError } from './errors.js';
import { Dialog, userOf } from './dialog.js';
import type { SipCore, EarlyHandler } from './core.js';
import type { Endpoint } from './transport.js';
import type { ServerTransaction } from './transaction.js';
import { normalizeE164 } from './e164.js';
import type { E164Options } from './e164.js';
import { randomBytes } from 'node:crypto';

export type IncomingCallEvent = { type: 'cancelled' } | { type: 'prack'; rseq: number };

export interface ProgressOptions {
  /** 180 (default) or 183. */
  status?: 180 | 181 | 182 | 183;
  /** Early media: answer the offer now (183 with SDP). */
  media?: LocalMedia;
  sdp?: string;
  /** Send reliably (100rel) when the caller supports it; always reliable when the caller requires it. */
  reliable?: boolean;
}

export interface AnswerOptions {
  /** Our media; the answer (or, for a late offer, the offer) is built from it. */
  media?: LocalMedia;
  /** A ready-made SDP instead of `media` (re-INVITEs then can only be refreshed, not renegotiated). */
  sdp?: string;
  headers?: Record<string, string>;
}

export interface IncomingCallInit {
  request: SipRequest;
  tx: ServerTransaction;
  source: Endpoint;
  trunkId?: string;
  e164?: E164Options;
  sessionTimer?: { interval: number; refresher: 'local' | 'remote'; uacSupports: boolean };
}

export class IncomingCall extends TypedEmitter<IncomingCallEvent> implements EarlyHandler {
  readonly request: SipRequest;
  readonly source: Endpoint;
  readonly trunkId: string | undefined;
  readonly callId: string;
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly requestUri: string;
  /** The dialled user part (Request-URI user, or To user), unescaped, as sent. */
  readonly dialledUser: string | undefined;
  /** The dialled number in E.164 (undefined when it is not a number). */
  readonly calledNumber: string | undefined;
  /** The caller's number in E.164 when From's user is one. */
  readonly callingNumber: string | undefined;
  /** The caller's offer; undefined for a late-offer INVITE (we offer in the 200, they answer in the ACK). */
  readonly remoteSdp: string | undefined;
  state: 'pending' | 'early' | 'answered' | 'rejected' | 'cancelled' = 'pending';

  readonly #core: SipCore;
  readonly #tx: ServerTransaction;
  readonly #localTag: string;
  readonly #st: IncomingCallInit['sessionTimer'];
  readonly #sdpSessionId = String(Math.floor(Math.random() * 1e9));
  #earlyAnswer: { sdp: string; media?: LocalMedia } | undefined;
  #rseq = Math.floor(Math.random() * 1000) + 1;
  #unacked = new Map<number, { timer: ReturnType<typeof setTimeout>; done: () => void }>();
  #prackWaiters: (() => void)[] = [];
  #early = false;

  constructor(core: SipCore, init: IncomingCallInit) {
    super();
    this.#core = core;
    this.#tx = init.tx;
    this.request = init.request;
    this.source = init.source;
    this.trunkId = init.trunkId;
    this.#st = init.sessionTimer;
    this.#localTag = core.newTag();
    this.callId = this.request.headers.get('call-id') ?? '';
    this.from = parseNameAddr(this.request.headers.get('from') ?? '');
    this.to = parseNameAddr(this.request.headers.get('to') ?? '');
    this.requestUri = this.request.uri;
    // Request-URI user first; the To user when the R-URI carries none or no number (a registered
    // contact such as sip:engine@host routed by a registrar).
    let ruriUser: string | undefined;
    let toUser: string | undefined;
    try { ruriUser = parseUri(this.request.uri).user; } catch { ruriUser = undefined; }
    try { toUser = parseUri(this.to.uri).user; } catch { toUser = undefined; }
    const fromRuri = ruriUser ? normalizeE164(ruriUser, init.e164) : undefined;
    const fromTo = toUser ? normalizeE164(toUser, init.e164) : undefined;
    this.dialledUser = fromRuri || !fromTo ? ruriUser ?? toUser : toUser;
    this.calledNumber = fromRuri ?? fromTo;
    let fromUser: string | undefined;
    try { fromUser = parseUri(this.from.uri).user; } catch { fromUser = undefined; }
    this.callingNumber = fromUser ? normalizeE164(fromUser, init.e164) : undefined;
    const ct = (this.request.headers.get('content-type') ?? '').toLowerCase();
    this.remoteSdp = this.request.body.length && ct.startsWith('application/sdp') ? this.request.body.toString('utf8') : undefined;
  }

  get #earlyKey(): string {
    return `${this.callId}|${this.#localTag}|${getTag(this.request.headers.get('from')) ?? ''}`;
  }

  #requires100rel(): boolean {
    return tokenList(this.request.headers, 'require').includes('100rel');
  }
  #supports100rel(): boolean {
    return this.#requires100rel() || tokenList(this.request.headers, 'supported').includes('100rel');
  }

  #response(status: number, reason?: string): SipResponse {
    return createResponse(this.request, status, reason, { toTag: this.#localTag, recordRoute: status > 100 && status < 300 });
  }

  /** Send 180/183 (optionally with early media, optionally reliable). */
  progress(opts: ProgressOptions = {}): void {
    if (this.state !== 'pending' && this.state !== 'early') throw new SipError(481, `call is ${this.state}`);
    const status = opts.status ?? 180;
    const res = this.#response(status);
    res.headers.append('contact', this.#core.contact(this.#tx.dest.protocol, userOf(this.to.uri)));
    res.headers.append('allow', this.#core.allow.join(', '));
    let sdp = opts.sdp;
    if (!sdp && opts.media) {
      sdp = this.remoteSdp
        ? createAnswer(this.remoteSdp, opts.media, { sessionId: this.#sdpSessionId, version: 1 }).sdp
        : undefined;
    }
    if (sdp) {
      this.#earlyAnswer = { sdp, ...(opts.media ? { media: opts.media } : {}) };
      res.headers.set('content-type', 'application/sdp');
      res.body = Buffer.from(sdp);
    }
    this.state = 'early';
    if (!this.#early) { this.#early = true; this.#core.addEarly(this.#earlyKey, this); }
    const reliable = this.#requires100rel() || (opts.reliable === true && this.#supports100rel());
    if (!reliable) { this.#core.respond(this.#tx, res); return; }
    const rseq = this.#rseq++;
    res.headers.append('require', '100rel');
    res.headers.append('rseq', String(rseq));
    const { T1 } = this.#core.timers;
    let interval = T1;
    let elapsed = 0;
    const entry = {
      timer: setTimeout(function noop() { /* replaced below */ }, 0),
      done: () => { clearTimeout(entry.timer); this.#unacked.delete(rseq); if (!this.#unacked.size) for (const w of this.#prackWaiters.splice(0)) w(); },
    };
    clearTimeout(entry.timer);
    const again = () => {
      if (!this.#unacked.has(rseq) || this.state !== 'early') return;
      if (elapsed >= 64 * T1) { entry.done(); return; }
      this.#core.respond(this.#tx, res);
      elapsed += interval;
      interval *= 2;
      entry.timer = setTimeout(again, interval);
    };
    this.#unacked.set(rseq, entry);
    this.#core.respond(this.#tx, res);
    elapsed = interval;
    entry.timer = setTimeout(again, interval);
  }

  handleEarlyRequest(req: SipRequest, tx: ServerTransaction): void {
    if (req.method === 'PRACK') {
      const rack = (req.headers.get('rack') ?? '').trim().split(/\s+/);
      const rseq = Number(rack[0]);
      const p = this.#unacked.get(rseq);
      const res = createResponse(req, p ? 200 : 481, undefined, { toTag: this.#localTag });
      this.#core.respond(tx, res);
      if (p) { p.done(); this.emit({ type: 'prack', rseq }); }
      return;
    }
    this.#core.respond(tx, createResponse(req, req.method === 'UPDATE' ? 491 : 481, undefined, { toTag: this.#localTag }));
  }

  /**
   * What answer({ media }) would negotiate, without answering: the codec (with the caller's
   * payload type), telephone-event, remote address. Undefined for a late offer; throws
   * SdpError('SDP_NO_COMMON_CODEC') when answer() would send 488.
   */
  preview(media: LocalMedia): NegotiatedMedia | undefined {
    if (this.remoteSdp === undefined) return undefined;
    return createAnswer(this.remoteSdp, media, { sessionId: this.#sdpSessionId, version: 1 }).media;
  }

  /** Reject with a final status (403, 404, 480, 486, 488, 603...). */
  reject(status: number, reason?: string, headers: Record<string, string> = {}): void {
    if (this.state !== 'pending' && this.state !== 'early') return;
    if (status < 300) throw new SipError(500, 'reject() needs a status >= 300');
    this.state = 'rejected';
    this.#cleanupEarly();
    const res = this.#response(status, reason);
    for (const [k, v] of Object.entries(headers)) res.headers.append(k, v);
    this.#core.respond(this.#tx, res);
  }

  /** Called by the stack when a CANCEL matched this INVITE. */
  cancelled(): void {
    if (this.state !== 'pending' && this.state !== 'early') return;
    this.state = 'cancelled';
    this.#cleanupEarly();
    this.#core.respond(this.#tx, this.#response(487));
    for (const w of this.#prackWaiters.splice(0)) w();
    this.emit({ type: 'cancelled' });
  }

  #cleanupEarly(): void {
    for (const e of [...this.#unacked.values()]) clearTimeout(e.timer);
    this.#unacked.clear();
    if (this.#early) { this.#early = false; this.#core.removeEarly(this.#earlyKey); }
  }

  /**
   * Answer with 200 OK. Resolves with the confirmed dialog once the ACK arrives; rejects with
   * SipError(488) when no codec matches (488 is sent), CallFailedError('cancelled') when the
   * caller cancelled, SipTransportError('SIP_TIMEOUT') when no ACK came.
   */
  async answer(opts: AnswerOptions): Promise<Dialog> {
    if (this.state === 'cancelled') throw new CallFailedError('cancelled');
    if (this.state !== 'pending' && this.state !== 'early') throw new SipError(481, `call is ${this.state}`);
    if (this.#unacked.size) await new Promise<void>((r) => this.#prackWaiters.push(r));
    if ((this.state as string) === 'cancelled') throw new CallFailedError('cancelled');
    if (this.state !== 'pending' && this.state !== 'early') throw new SipError(481, `call is ${this.state}`);
    const session = { sessionId: this.#sdpSessionId, version: 1 };
    let localSdp: string;
    let media;
    const lateOffer = this.remoteSdp === undefined;
    try {
      if (this.#earlyAnswer && !lateOffer) {
        localSdp = this.#earlyAnswer.sdp;
        if (opts.media) media = createAnswer(this.remoteSdp as string, opts.media, session).media;
      } else if (opts.sdp) {
        localSdp = opts.sdp;
        if (!lateOffer && opts.media) media = createAnswer(this.remoteSdp as string, opts.media, session).media;
      } else if (opts.media) {
        if (lateOffer) localSdp = createOffer(opts.media, session);
        else ({ sdp: localSdp, media } = createAnswer(this.remoteSdp as string, opts.media, session));
      } else throw new SipError(500, 'answer() needs media or sdp');
    } catch (e) {
      if (e instanceof SdpError) {
        this.reject(488);
        throw new SipError(488, 'Not Acceptable Here');
      }
      throw e;
    }
    this.state = 'answered';
    this.#cleanupEarly();
    const req = this.request;
    const st = this.#st;
    const contact = req.headers.get('contact');
    const dialog = new Dialog(this.#core, {
      direction: 'inbound',
      callId: this.callId,
      localTag: this.#localTag,
      remoteTag: getTag(req.headers.get('from')) ?? '',
      local: { ...this.to, params: Object.fromEntries(Object.entries(this.to.params).filter(([k]) => k !== 'tag')) },
      remote: { ...this.from, params: Object.fromEntries(Object.entries(this.from.params).filter(([k]) => k !== 'tag')) },
      remoteTarget: contact ? parseNameAddr(contact).uri : this.from.uri,
      routeSet: req.headers.getAll('record-route'),
      localSeq: Math.floor(Math.random() * 10000),
      remoteSeq: parseCSeq(req.headers.get('cseq') ?? '').seq,
      protocol: this.#tx.dest.protocol,
      peer: this.#tx.dest,
      ...(this.trunkId !== undefined ? { trunkId: this.trunkId } : {}),
      ...(opts.media ? { localMedia: opts.media } : {}),
      localSdp,
      ...(this.remoteSdp !== undefined ? { remoteSdp: this.remoteSdp } : {}),
      ...(media ? { media } : {}),
      sdpSessionId: this.#sdpSessionId,
      sdpVersion: 1,
      remoteAllow: tokenList(req.headers, 'allow').map((m) => m.toUpperCase()),
      remoteSupported: tokenList(req.headers, 'supported'),
      ...(st ? { sessionTimer: { interval: st.interval, refresher: st.refresher } } : {}),
      initialRequest: req,
    });
    const res = this.#response(200);
    res.headers.append('contact', this.#core.contact(this.#tx.dest.protocol, userOf(this.to.uri)));
    res.headers.append('allow', this.#core.allow.join(', '));
    res.headers.append('supported', this.#core.supported.join(', '));
    if (st) {
      res.headers.append('session-expires', `${st.interval};refresher=${st.refresher === 'local' ? 'uas' : 'uac'}`);
      if (st.uacSupports) res.headers.append('require', 'timer');
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) res.headers.append(k, v);
    res.headers.set('content-type', 'application/sdp');
    res.body = Buffer.from(localSdp);
    this.#core.addDialog(dialog);
    const acked = dialog.expectAck(this.#tx, lateOffer);
    this.#core.respond(this.#tx, res);
    const ack = await acked;
    if (!ack) {
      if (dialog.state === 'terminated' && dialog.closeReason !== 'ack-timeout') throw new CallFailedError('cancelled');
      await dialog.bye();
      throw new SipTransportError('SIP_TIMEOUT', 'no ACK for 200 OK');
    }
    if (lateOffer) {
      const answer = ack.body.length ? ack.body.toString('utf8') : undefined;
      try {
        if (!answer || !opts.media) throw new SdpError('SDP_INVALID', 'ACK without SDP answer');
        dialog.media = processAnswer(answer, opts.media);
        dialog.remoteSdp = answer;
      } catch (e) {
        await dialog.bye([['Reason', 'SIP;cause=488;text="Not Acceptable Here"']]);
        throw new SipError(488, e instanceof Error ? e.message : 'bad answer');
      }
    }
    dialog.activate();
    return dialog;
  }
}

/** Session-timer negotiation for an initial INVITE (RFC 4028 §9): 422 or the values to use. */
export function negotiateSessionTimer(req: SipRequest, minSE: number): { reject422: true } | { interval: number; refresher: 'local' | 'remote'; uacSupports: boolean } | undefined {
  const se = req.headers.get('session-expires');
  const uacSupports = tokenList(req.headers, 'supported').includes('timer') || tokenList(req.headers, 'require').includes('timer');
  if (!se) return undefined;
  const [val, ...rest] = se.split(';');
  const interval = Number(val?.trim());
  if (!Number.isFinite(interval) || interval <= 0) return undefined;
  if (interval < minSE) return { reject422: true };
  const refresher = parseParams(rest.length ? ';' + rest.join(';') : '')['refresher'];
  const r: 'local' | 'remote' = refresher === 'uas' ? 'local' : refresher === 'uac' ? 'remote' : uacSupports ? 'remote' : 'local';
  return { interval, refresher: uacSupports ? r : 'local', uacSupports };
}

export function randomTag(): string {
  return randomBytes(6).toString('hex');
}
