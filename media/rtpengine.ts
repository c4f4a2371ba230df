/**
 * Optional rtpengine media anchor, spoken to over the ng protocol (rtpengine-client, UDP). When
 * configured, the SIP layer passes each SDP through `offer`/`answer` so that carriers see
 * rtpengine's address (NAT traversal, SRTP, transcoding) while our MediaSessions talk plain RTP to
 * rtpengine on loopback; `delete` tears the call down. Responses with result != "ok" become
 * MediaError('RTPENGINE').
 */
import rtpengine from 'rtpengine-client';
import type { Client, NgResponse, NgValue } from 'rtpengine-client';
import { MediaError } from './errors.js';

export interface RtpEngineAnchorOptions {
  /** ng control address, e.g. 127.0.0.1:22222. */
  readonly host: string;
  readonly port: number;
  /** Per-command timeout. Default 2000 ms. */
  readonly timeoutMs?: number;
}

export interface NgCodecOptions {
  /** Codecs rtpengine should offer in addition and transcode to/from (e.g. ['PCMA']). */
  readonly transcode?: readonly string[];
  readonly strip?: readonly string[];
  readonly mask?: readonly string[];
  readonly accept?: readonly string[];
}

export interface NgOfferRequest {
  readonly callId: string;
  readonly fromTag: string;
  readonly sdp: string;
  /** ng flags, e.g. ['trust-address'], ['symmetric']. */
  readonly flags?: readonly string[];
  /** e.g. ['origin', 'session-connection']. */
  readonly replace?: readonly string[];
  readonly transportProtocol?: 'RTP/AVP' | 'RTP/SAVP' | 'RTP/SAVPF' | 'UDP/TLS/RTP/SAVPF';
  readonly ice?: 'remove' | 'force';
  readonly codec?: NgCodecOptions;
  /** Interface names/directions when rtpengine has several (e.g. ['external', 'internal']). */
  readonly direction?: readonly [string, string];
}

export interface NgAnswerRequest extends NgOfferRequest {
  readonly toTag: string;
}

export interface NgSdpResult {
  readonly sdp: string;
  readonly raw: NgResponse;
}

function toNg(req: NgOfferRequest & { toTag?: string }): Record<string, NgValue> {
  const o: Record<string, NgValue> = { 'call-id': req.callId, 'from-tag': req.fromTag, sdp: req.sdp };
  if (req.toTag) o['to-tag'] = req.toTag;
  if (req.flags?.length) o.flags = [...req.flags];
  if (req.replace?.length) o.replace = [...req.replace];
  if (req.transportProtocol) o['transport-protocol'] = req.transportProtocol;
  if (req.ice) o.ICE = req.ice;
  if (req.direction) o.direction = [...req.direction];
  if (req.codec) {
    const c: Record<string, NgValue> = {};
    if (req.codec.transcode?.length) c.transcode = [...req.codec.transcode];
    if (req.codec.strip?.length) c.strip = [...req.codec.strip];
    if (req.codec.mask?.length) c.mask = [...req.codec.mask];
    if (req.codec.accept?.length) c.accept = [...req.codec.accept];
    o.codec = c;
  }
  return o;
}

export class RtpEngineAnchor {
  readonly #opts: RtpEngineAnchorOptions;
  #client: Client | null = null;
  #closed = false;

  constructor(opts: RtpEngineAnchorOptions) { this.#opts = opts; }

  /** Opens the control socket and checks rtpengine answers a ping. */
  async start(): Promise<void> {
    if (this.#client) return;
    if (this.#closed) throw new MediaError('CLOSED', 'rtpengine anchor closed');
    const client = new rtpengine.Client({ timeout: this.#opts.timeoutMs ?? 2000 });
    client.on('error', () => { /* surfaced through the failing command's promise */ });
    await new Promise<void>((resolve) => client.once('listening', () => resolve()));
    this.#client = client;
    await this.ping();
  }

  async ping(): Promise<void> {
    const r = await this.#call((c) => c.ping(this.#opts.port, this.#opts.host));
    if (r.result !== 'pong') throw new MediaError('RTPENGINE', `rtpengine ping: ${r.result}`);
  }

  async offer(req: NgOfferRequest): Promise<NgSdpResult> {
    const r = this.#check(await this.#call((c) => c.offer(this.#opts.port, this.#opts.host, toNg(req))), 'offer');
    return { sdp: String(r.sdp ?? ''), raw: r };
  }

  async answer(req: NgAnswerRequest): Promise<NgSdpResult> {
    const r = this.#check(await this.#call((c) => c.answer(this.#opts.port, this.#opts.host, toNg(req))), 'answer');
    return { sdp: String(r.sdp ?? ''), raw: r };
  }

  async delete(req: { callId: string; fromTag?: string }): Promise<NgResponse> {
    const o: Record<string, NgValue> = { 'call-id': req.callId };
    if (req.fromTag) o['from-tag'] = req.fromTag;
    return this.#check(await this.#call((c) => c.delete(this.#opts.port, this.#opts.host, o)), 'delete');
  }

  async query(callId: string): Promise<NgResponse> {
    return this.#check(await this.#call((c) => c.query(this.#opts.port, this.#opts.host, { 'call-id': callId })), 'query');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try { this.#client?.close(); } catch { /* already closed */ }
    this.#client = null;
  }

  async #call(fn: (c: Client) => Promise<NgResponse>): Promise<NgResponse> {
    if (!this.#client) throw new MediaError('NOT_STARTED', 'rtpengine anchor not started');
    try { return await fn(this.#client); }
    catch (err) { throw new MediaError('RTPENGINE', `rtpengine request failed: ${(err as Error).message}`, { cause: err }); }
  }

  #check(r: NgResponse, what: string): NgResponse {
    if (r.result !== 'ok') throw new MediaError('RTPENGINE', `rtpengine ${what}: ${r['error-reason'] ?? r.result}`);
    return r;
  }
}
