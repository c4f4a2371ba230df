/** Internal contract between the stack and its dialogs / calls / registrations. Not public. */
import type { SipRequest, SipResponse, SipMessage } from './message.js';
import type { Endpoint, TransportProtocol } from './transport.js';
import type { ClientTransaction, ServerTransaction, TimerValues } from './transaction.js';
import type { Dialog } from './dialog.js';

export interface RequestHandle {
  /** The transaction currently carrying the request (changes on auth retry). */
  tx: ClientTransaction;
  /** The final response; synthetic 408 (timeout) / 503 (transport) carry `synthetic`. */
  final: Promise<SipResponse>;
}

export interface SendOptions {
  provisional?(res: SipResponse, tx: ClientTransaction): void;
  /** Digest credentials used on 401/407 (one retry per challenge). */
  credentials?: { username: string; password: string };
  /** Called with the new CSeq number when a retry increments it. */
  onCSeq?(seq: number): void;
  /** Called when a retry creates a new transaction. */
  onTransaction?(tx: ClientTransaction): void;
}

export interface SessionTimerOptions {
  /** Session-Expires we ask for / accept (seconds, default 1800). */
  expires: number;
  /** Min-SE we enforce (seconds, default 90; lower only for tests). */
  minSE: number;
}

export interface SipCore {
  readonly timers: TimerValues;
  readonly sessionTimer: SessionTimerOptions;
  readonly userAgent: string;
  readonly supported: readonly string[];
  readonly allow: readonly string[];
  newTag(): string;
  newBranch(): string;
  newCallId(): string;
  /** <sip:user@advertised:port;transport=x> */
  contact(protocol: TransportProtocol, user?: string): string;
  advertisedAddress(): string;
  sendRequest(req: SipRequest, dest: Endpoint, opts?: SendOptions): RequestHandle;
  sendRaw(msg: SipMessage, dest: Endpoint): Promise<void>;
  /** Resolve a SIP URI to the endpoint to send to (transport param, default port). */
  resolveUri(uri: string, defaultProtocol: TransportProtocol): Promise<Endpoint>;
  addDialog(d: Dialog): void;
  removeDialog(d: Dialog): void;
  /** Remember the ACK for a 2xx so retransmitted 2xx get it again. */
  cacheAck(callId: string, seq: number, ack: SipRequest, dest: Endpoint): void;
  respond(tx: ServerTransaction, res: SipResponse): void;
  /** Early (pre-2xx) UAS dialogs receive PRACK through this. */
  addEarly(key: string, handler: EarlyHandler): void;
  removeEarly(key: string): void;
}

export interface EarlyHandler {
  handleEarlyRequest(req: SipRequest, tx: ServerTransaction): void;
}

export function synthetic(res: SipResponse): boolean {
  return (res as SipResponse & { synthetic?: boolean }).synthetic === true;
}
