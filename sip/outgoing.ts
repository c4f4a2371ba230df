/** Outbound INVITE through a trunk (UAC side). */
import { SIP_VERSION, SipHeaders, formatNameAddr, getTag, parseNameAddr, parseCSeq, tokenList } from './message.js';
import type { SipRequest, SipResponse, NameAddr } from './message.js';
import { createOffer, processAnswer } from './sdp.js';
import type { LocalMedia, NegotiatedMedia } from './sdp.js';
import { CallFailedError, failureReasonForStatus } from './errors.js';
import type { CallFailureReason } from './errors.js';
import { Dialog } from './dialog.js';
import type { SipCore } from './core.js';
import { synthetic } from './core.js';
import type { Endpoint, TransportProtocol } from './transport.js';
import type { ClientTransaction } from './transaction.js';

/** Plain-data description of a trunk (the engine maps its store rows to this). */
export interface TrunkTarget {
  id?: string;
  /** Carrier/PBX host (name or IP) and port (default 5060, 5061 for TLS). */
  host: string;
  port?: number;
  transport?: TransportProtocol;
  /** "host[:port]" or a SIP URI; requests are sent there with a Route header. */
  outboundProxy?: string;
  /** Digest credentials. */
  username?: string;
  password?: string;
  /** Authentication user when different from `username`. */
  authUsername?: string;
  /** Domain for From/To/REGISTER (default `host`). */
  fromDomain?: string;
  /** true: P-Asserted-Identity from the From identity; a string: that exact value. */
  pAssertedIdentity?: boolean | string;
}

export interface CallProgress {
  status: number;
  reason: string;
  /** Early media negotiated from a 18x with SDP. */
  earlyMedia?: NegotiatedMedia;
  remoteSdp?: string;
}

export interface PlaceCallOptions {
  trunk: TrunkTarget;
  /** A number (becomes sip:<to>@<trunk host>) or a full sip:/tel: URI. */
  to: string;
  from: { user: string; display?: string };
  media: LocalMedia;
  headers?: Record<string, string>;
  /** CANCEL after this long without an answer (default 60 s) → CallFailedError('no_answer'). */
  ringTimeoutMs?: number;
  /** Abort → CANCEL → CallFailedError('cancelled'). */
  signal?: AbortSignal;
  onProgress?: (p: CallProgress) => void;
}

export function trunkUri(trunk: TrunkTarget, user?: string): string {
  const host = trunk.host.includes(':') && !trunk.host.startsWith('[') ? `[${trunk.host}]` : trunk.host;
  const port = trunk.port ? `:${trunk.port}` : '';
  const t = trunk.transport && trunk.transport !== 'udp' ? `;transport=${trunk.transport}` : '';
  return `sip:${user ? `${user}@` : ''}${host}${port}${t}`;
}

export function proxyRoute(trunk: TrunkTarget): { route?: string; target: string } {
  if (!trunk.outboundProxy) return { target: trunkUri(trunk) };
  let uri = /^sips?:/i.test(trunk.outboundProxy) ? trunk.outboundProxy : `sip:${trunk.outboundProxy}`;
  if (trunk.transport && trunk.transport !== 'udp' && !/;transport=/i.test(uri)) uri += `;transport=${trunk.transport}`;
  if (!/;lr\b/i.test(uri)) uri += ';lr';
  return { route: `<${uri}>`, target: uri };
}

export function trunkCredentials(trunk: TrunkTarget): { username: string; password: string } | undefined {
  if (!trunk.password || !(trunk.authUsername ?? trunk.username)) return undefined;
  return { username: (trunk.authUsername ?? trunk.username) as string, password: trunk.password };
}

export async function placeCall(core: SipCore, opts: PlaceCallOptions): Promise<Dialog> {
  const { trunk } = opts;
  const protocol: TransportProtocol = trunk.transport ?? 'udp';
  const domain = trunk.fromDomain ?? trunk.host;
  const toUri = /^(sips?|tel):/i.test(opts.to) ? opts.to : `sip:${opts.to}@${domain}${trunk.port && !trunk.fromDomain ? `:${trunk.port}` : ''}`;
  const callId = core.newCallId();
  const localTag = core.newTag();
  const local: NameAddr = { uri: `sip:${opts.from.user}@${domain}`, params: {}, ...(opts.from.display ? { display: opts.from.display } : {}) };
  const remote: NameAddr = { uri: toUri, params: {} };
  const { route, target } = proxyRoute(trunk);
  const dest = await core.resolveUri(target, protocol);
  const sdpSessionId = String(Math.floor(Math.random() * 1e9));
  const offer = createOffer(opts.media, { sessionId: sdpSessionId, version: 1 });
  const credentials = trunkCredentials(trunk);
  let seq = 1;
  let sessionExpires = core.sessionTimer.expires;
  let minSE = core.sessionTimer.minSE;

  const build = (): SipRequest => {
    const h = new SipHeaders();
    if (route) h.append('route', route);
    h.append('max-forwards', '70');
    h.append('from', formatNameAddr({ ...local, params: { tag: localTag } }));
    h.append('to', formatNameAddr(remote));
    h.append('call-id', callId);
    h.append('cseq', `${seq} INVITE`);
    h.append('contact', core.contact(protocol, opts.from.user));
    h.append('allow', core.allow.join(', '));
    h.append('supported', core.supported.join(', '));
    h.append('session-expires', String(sessionExpires));
    h.append('min-se', String(minSE));
    h.append('user-agent', core.userAgent);
    if (trunk.pAssertedIdentity) {
      h.append('p-asserted-identity', typeof trunk.pAssertedIdentity === 'string' ? trunk.pAssertedIdentity : formatNameAddr({ ...local, params: {} }));
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) h.append(k, v);
    h.append('content-type', 'application/sdp');
    return { type: 'request', method: 'INVITE', uri: toUri, version: SIP_VERSION, headers: h, body: Buffer.from(offer) };
  };

  let gotProvisional = false;
  let cancelReason: CallFailureReason | undefined;
  let finalSeen = false;
  let currentTx: ClientTransaction | undefined;
  let cancelSent = false;
  let earlySdp: string | undefined;
  let lastRSeq = -1;

  const sendCancel = () => {
    if (cancelSent || !currentTx || finalSeen) return;
    cancelSent = true;
    const inv = currentTx.request;
    const h = new SipHeaders();
    h.append('via', inv.headers.get('via') ?? '');
    for (const r of inv.headers.getAll('route')) h.append('route', r);
    h.append('max-forwards', '70');
    h.append('from', inv.headers.get('from') ?? '');
    h.append('to', inv.headers.get('to') ?? '');
    h.append('call-id', callId);
    h.append('cseq', `${parseCSeq(inv.headers.get('cseq') ?? '').seq} CANCEL`);
    h.append('user-agent', core.userAgent);
    const cancel: SipRequest = { type: 'request', method: 'CANCEL', uri: inv.uri, version: SIP_VERSION, headers: h, body: Buffer.alloc(0) };
    core.sendRequest(cancel, currentTx.dest).final.catch(() => undefined);
  };
  const requestCancel = (why: CallFailureReason) => {
    if (finalSeen || cancelReason) return;
    cancelReason = why;
    if (gotProvisional) sendCancel();
  };
  const ringTimer = setTimeout(() => requestCancel('no_answer'), opts.ringTimeoutMs ?? 60_000);
  ringTimer.unref?.();
  const onAbort = () => requestCancel('cancelled');
  if (opts.signal?.aborted) { clearTimeout(ringTimer); throw new CallFailedError('cancelled'); }
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const sendPrack = (res: SipResponse) => {
    const rseq = Number(res.headers.get('rseq'));
    if (!Number.isFinite(rseq) || rseq <= lastRSeq) return;
    lastRSeq = rseq;
    const contact = res.headers.get('contact');
    const rr = res.headers.getAll('record-route').reverse();
    const h = new SipHeaders();
    for (const r of rr) h.append('route', r);
    if (!rr.length && route) h.append('route', route);
    h.append('max-forwards', '70');
    h.append('from', formatNameAddr({ ...local, params: { tag: localTag } }));
    h.append('to', res.headers.get('to') ?? '');
    h.append('call-id', callId);
    seq++;
    h.append('cseq', `${seq} PRACK`);
    h.append('rack', `${rseq} ${parseCSeq(res.headers.get('cseq') ?? '').seq} INVITE`);
    h.append('user-agent', core.userAgent);
    const uri = contact ? parseNameAddr(contact).uri : toUri;
    const prack: SipRequest = { type: 'request', method: 'PRACK', uri, version: SIP_VERSION, headers: h, body: Buffer.alloc(0) };
    const firstRoute = rr[0];
    const target = firstRoute ? core.resolveUri(parseNameAddr(firstRoute).uri, protocol) : route ? Promise.resolve(dest) : core.resolveUri(uri, protocol);
    void target.then((d) => core.sendRequest(prack, d, credentials ? { credentials } : {}).final).catch(() => undefined);
  };

  const onProvisional = (res: SipResponse, tx: ClientTransaction) => {
    currentTx = tx;
    if (res.status === 100) return;
    gotProvisional = true;
    if (tokenList(res.headers, 'require').includes('100rel') && getTag(res.headers.get('to'))) sendPrack(res);
    let earlyMedia: NegotiatedMedia | undefined;
    if (res.body.length) {
      try {
        earlyMedia = processAnswer(res.body.toString('utf8'), opts.media);
        earlySdp = res.body.toString('utf8');
      } catch { /* ignore bad early SDP */ }
    }
    opts.onProgress?.({ status: res.status, reason: res.reason, ...(earlyMedia ? { earlyMedia, remoteSdp: earlySdp as string } : {}) });
    if (cancelReason) sendCancel();
  };

  try {
    for (let attempt = 0; ; attempt++) {
      const req = build();
      const handle = core.sendRequest(req, dest, {
        provisional: onProvisional,
        ...(credentials ? { credentials } : {}),
        onCSeq: (n) => { seq = n; },
        onTransaction: (tx) => { currentTx = tx; },
      });
      currentTx = handle.tx;
      const res = await handle.final;
      if (res.status === 422 && attempt < 2 && !cancelReason) {
        const min = Number((res.headers.get('min-se') ?? '').split(';')[0]);
        if (Number.isFinite(min) && min > sessionExpires) {
          sessionExpires = min;
          minSE = min;
          seq++;
          continue;
        }
      }
      finalSeen = true;
      if (res.status >= 200 && res.status < 300) {
        return await established(res);
      }
      if (cancelReason && (res.status === 487 || synthetic(res))) throw new CallFailedError(cancelReason, res.status, res.reason);
      if (synthetic(res)) throw new CallFailedError('failed_to_connect', res.status, res.reason);
      throw new CallFailedError(failureReasonForStatus(res.status), res.status, res.reason);
    }
  } finally {
    clearTimeout(ringTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  }

  async function established(res: SipResponse): Promise<Dialog> {
    const contact = res.headers.get('contact');
    const remoteTag = getTag(res.headers.get('to')) ?? '';
    const routeSet = res.headers.getAll('record-route').reverse();
    let media: NegotiatedMedia | undefined;
    let remoteSdp = res.body.length ? res.body.toString('utf8') : earlySdp;
    let sdpError = false;
    try {
      if (remoteSdp) media = processAnswer(remoteSdp, opts.media);
      else sdpError = true;
    } catch { sdpError = true; remoteSdp = undefined; }
    const se = res.headers.get('session-expires');
    let sessionTimer: { interval: number; refresher: 'local' | 'remote' } | undefined;
    if (se) {
      const interval = Number(se.split(';')[0]);
      if (Number.isFinite(interval) && interval > 0) sessionTimer = { interval, refresher: /refresher\s*=\s*uas/i.test(se) ? 'remote' : 'local' };
    }
    const peer: Endpoint = dest;
    const dialog = new Dialog(core, {
      direction: 'outbound', callId, localTag, remoteTag, local, remote,
      remoteTarget: contact ? parseNameAddr(contact).uri : toUri,
      routeSet: routeSet.length ? routeSet : route ? [route] : [],
      localSeq: seq, protocol, peer,
      ...(trunk.id !== undefined ? { trunkId: trunk.id } : {}),
      localMedia: opts.media, localSdp: offer,
      ...(remoteSdp ? { remoteSdp } : {}),
      ...(media ? { media } : {}),
      sdpSessionId, sdpVersion: 1,
      ...(credentials ? { credentials } : {}),
      remoteAllow: tokenList(res.headers, 'allow').map((m) => m.toUpperCase()),
      remoteSupported: tokenList(res.headers, 'supported'),
      ...(sessionTimer ? { sessionTimer } : {}),
      initialRequest: currentTx?.request ?? build(),
    });
    core.addDialog(dialog);
    await dialog.ackInitial(res);
    if (sdpError || cancelReason) {
      await dialog.bye();
      throw new CallFailedError(cancelReason ?? 'failed_to_connect', 488, 'No usable SDP answer');
    }
    dialog.activate();
    return dialog;
  }
}
