/** REGISTER client for a trunk: register, refresh before expiry, back off and retry, report status. */
import { TypedEmitter } from './emitter.js';
import { SIP_VERSION, SipHeaders, parseNameAddr } from './message.js';
import type { SipRequest, SipResponse } from './message.js';
import type { SipCore } from './core.js';
import { synthetic } from './core.js';
import { proxyRoute, trunkCredentials } from './outgoing.js';
import type { TrunkTarget } from './outgoing.js';

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'unregistered';

export interface RegistrationStatus {
  state: RegistrationState;
  /** Epoch ms when the current binding expires. */
  expiresAt?: number;
  /** The last final response (status and reason), e.g. for "failed with 403 Forbidden". */
  lastStatus?: number;
  lastReason?: string;
  /** Epoch ms of the next attempt when failed. */
  retryAt?: number;
}

export type RegistrationEvent =
  | { type: 'registered'; expires: number }
  | { type: 'failed'; status: number; reason: string; retryInMs: number }
  | { type: 'unregistered' };

export interface RegistrationOptions {
  trunk: TrunkTarget;
  /** Requested binding lifetime (seconds, default 3600). */
  expires?: number;
  /** Back-off bounds for retries after failure (default 2 s .. 5 min). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class Registration extends TypedEmitter<RegistrationEvent> {
  readonly #core: SipCore;
  readonly #opts: RegistrationOptions;
  readonly #callId: string;
  readonly #tag: string;
  #seq = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #status: RegistrationStatus = { state: 'idle' };
  #failures = 0;
  #stopped = false;
  #inFlight: Promise<void> | undefined;

  constructor(core: SipCore, opts: RegistrationOptions) {
    super();
    this.#core = core;
    this.#opts = opts;
    this.#callId = core.newCallId();
    this.#tag = core.newTag();
  }

  get status(): RegistrationStatus {
    return { ...this.#status };
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Remove the binding (Expires: 0) and stop refreshing. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#inFlight?.catch(() => undefined);
    if (this.#status.state === 'registered') {
      await this.#send(0).catch(() => undefined);
    }
    this.#status = { ...this.#status, state: 'unregistered' };
    delete this.#status.expiresAt;
    this.emit({ type: 'unregistered' });
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { this.#inFlight = this.#attempt(); }, ms);
    this.#timer.unref?.();
  }

  #build(expires: number): SipRequest {
    const t = this.#opts.trunk;
    const domain = t.fromDomain ?? t.host;
    const protocol = t.transport ?? 'udp';
    const user = t.username ?? 'anonymous';
    const aor = `sip:${user}@${domain}`;
    const { route } = proxyRoute(t);
    const h = new SipHeaders();
    if (route) h.append('route', route);
    h.append('max-forwards', '70');
    h.append('from', `<${aor}>;tag=${this.#tag}`);
    h.append('to', `<${aor}>`);
    h.append('call-id', this.#callId);
    h.append('cseq', `${this.#seq} REGISTER`);
    h.append('contact', this.#core.contact(protocol, user));
    h.append('expires', String(expires));
    h.append('allow', this.#core.allow.join(', '));
    h.append('user-agent', this.#core.userAgent);
    const uri = `sip:${domain}${t.port && !t.fromDomain ? `:${t.port}` : ''}${protocol !== 'udp' ? `;transport=${protocol}` : ''}`;
    return { type: 'request', method: 'REGISTER', uri, version: SIP_VERSION, headers: h, body: Buffer.alloc(0) };
  }

  async #send(expires: number): Promise<SipResponse> {
    const t = this.#opts.trunk;
    const protocol = t.transport ?? 'udp';
    const req = this.#build(expires);
    const { target } = proxyRoute(t);
    const dest = await this.#core.resolveUri(target, protocol);
    const creds = trunkCredentials(t);
    const h = this.#core.sendRequest(req, dest, { ...(creds ? { credentials: creds } : {}), onCSeq: (n) => { this.#seq = n; } });
    const res = await h.final;
    this.#seq++;
    return res;
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    this.#status = { ...this.#status, state: this.#status.state === 'registered' ? 'registered' : 'registering' };
    let expires = this.#opts.expires ?? 3600;
    let res: SipResponse | undefined;
    try {
      res = await this.#send(expires);
      if (res.status === 423) {
        const min = Number(res.headers.get('min-expires'));
        if (Number.isFinite(min) && min > expires) {
          expires = min;
          res = await this.#send(expires);
        }
      }
    } catch {
      res = undefined;
    }
    if (this.#stopped) return;
    if (res && res.status >= 200 && res.status < 300) {
      const granted = grantedExpires(res, expires);
      this.#failures = 0;
      this.#status = { state: 'registered', expiresAt: Date.now() + granted * 1000, lastStatus: res.status, lastReason: res.reason };
      const refreshIn = granted > 60 ? (granted - 30) * 1000 : Math.max(1000, (granted * 1000) / 2);
      this.#schedule(refreshIn);
      this.emit({ type: 'registered', expires: granted });
      return;
    }
    this.#failures++;
    const min = this.#opts.retryMinMs ?? 2000;
    const max = this.#opts.retryMaxMs ?? 300_000;
    const base = Math.min(max, min * 2 ** (this.#failures - 1));
    const retryInMs = Math.round(base * (0.8 + Math.random() * 0.4));
    const status = res?.status ?? 503;
    const reason = res ? (synthetic(res) ? `${res.reason} (no response)` : res.reason) : 'Transport failure';
    this.#status = { state: 'failed', lastStatus: status, lastReason: reason, retryAt: Date.now() + retryInMs };
    this.#schedule(retryInMs);
    this.emit({ type: 'failed', status, reason, retryInMs });
  }
}

function grantedExpires(res: SipResponse, asked: number): number {
  for (const c of res.headers.getAll('contact')) {
    try {
      const e = parseNameAddr(c).params['expires'];
      if (e) return Number(e);
    } catch { /* ignore */ }
  }
  const e = res.headers.get('expires');
  if (e && /^\d+$/.test(e)) return Number(e);
  return asked;
}
