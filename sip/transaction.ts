/**
 * The four RFC 3261 §17 transaction state machines, with timers A–K (and RFC 6026's
 * Accepted state). Transactions never parse; they send what the transaction user hands them and
 * pass responses/requests up. Over reliable transports retransmission timers are not started
 * and timers D/I/J/K are zero.
 */
import { SIP_VERSION, SipHeaders } from './message.js';
import type { SipRequest, SipResponse, SipMessage } from './message.js';
import type { Endpoint } from './transport.js';

export interface TimerValues {
  /** RTT estimate, default 500 ms. */
  T1: number;
  /** Max retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  T2: number;
  /** Max duration a message remains in the network, default 5 s. */
  T4: number;
}

export const DEFAULT_TIMERS: TimerValues = { T1: 500, T2: 4000, T4: 5000 };

export interface TransactionHost {
  readonly timers: TimerValues;
  send(msg: SipMessage, dest: Endpoint): Promise<void>;
  /** Called once a transaction reaches Terminated so the host can forget it. */
  terminated(tx: ClientTransaction | ServerTransaction): void;
}

type Timer = ReturnType<typeof setTimeout>;

abstract class TxBase {
  #timers = new Map<string, Timer>();
  protected constructor(protected readonly host: TransactionHost, readonly dest: Endpoint) {}

  get reliable(): boolean {
    return this.dest.protocol !== 'udp';
  }

  protected startTimer(name: string, ms: number, fn: () => void): void {
    this.stopTimer(name);
    const t = setTimeout(() => { this.#timers.delete(name); fn(); }, ms);
    t.unref?.();
    this.#timers.set(name, t);
  }

  protected stopTimer(name: string): void {
    const t = this.#timers.get(name);
    if (t) clearTimeout(t);
    this.#timers.delete(name);
  }

  protected stopAll(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  protected transmit(msg: SipMessage): void {
    this.host.send(msg, this.dest).catch(() => this.onTransportError());
  }

  protected abstract onTransportError(): void;

  abstract state: string;

  /** Stop everything (stack shutdown). */
  abort(): void {
    this.terminate();
  }

  protected terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.stopAll();
    this.host.terminated(this as TxBase as ClientTransaction | ServerTransaction); // the only two subclasses
  }
}

// ------------------------------------------------------------------ client

export type ClientState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface ClientTransactionUser {
  response(res: SipResponse, tx: ClientTransaction): void;
  /** Timer B/F fired or the transport failed: no final response will come. */
  timeout(tx: ClientTransaction, cause: 'timeout' | 'transport'): void;
}

export class ClientTransaction extends TxBase {
  state: ClientState;
  readonly isInvite: boolean;
  readonly branch: string;
  lastResponse?: SipResponse;
  #ack?: SipRequest;

  constructor(host: TransactionHost, readonly request: SipRequest, dest: Endpoint, private readonly tu: ClientTransactionUser, branch: string) {
    super(host, dest);
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'calling' : 'trying';
    this.branch = branch;
  }

  get key(): string {
    return `${this.branch}|${this.request.method === 'ACK' ? 'INVITE' : this.request.method}`;
  }

  start(): void {
    const { T1, T2 } = this.host.timers;
    this.transmit(this.request);
    if (this.isInvite) {
      if (!this.reliable) {
        let interval = T1;
        const retransmitA = () => {
          if (this.state !== 'calling') return;
          this.transmit(this.request);
          interval *= 2;
          this.startTimer('A', interval, retransmitA);
        };
        this.startTimer('A', interval, retransmitA);
      }
      this.startTimer('B', 64 * T1, () => {
        if (this.state === 'calling') { this.terminate(); this.tu.timeout(this, 'timeout'); }
      });
    } else {
      if (!this.reliable) {
        let interval = T1;
        const retransmitE = () => {
          if (this.state !== 'trying' && this.state !== 'proceeding') return;
          this.transmit(this.request);
          interval = this.state === 'proceeding' ? T2 : Math.min(interval * 2, T2);
          this.startTimer('E', interval, retransmitE);
        };
        this.startTimer('E', interval, retransmitE);
      }
      this.startTimer('F', 64 * T1, () => {
        if (this.state === 'trying' || this.state === 'proceeding') { this.terminate(); this.tu.timeout(this, 'timeout'); }
      });
    }
  }

  receive(res: SipResponse): void {
    const { T1, T4 } = this.host.timers;
    if (this.state === 'terminated') return;
    if (this.isInvite) {
      if (res.status < 200) {
        if (this.state === 'calling' || this.state === 'proceeding') {
          this.state = 'proceeding';
          this.stopTimer('A');
          this.stopTimer('B');
          this.lastResponse = res;
          this.tu.response(res, this);
        }
      } else if (res.status < 300) {
        if (this.state === 'calling' || this.state === 'proceeding') {
          this.state = 'accepted';
          this.stopTimer('A');
          this.stopTimer('B');
          this.lastResponse = res;
          this.startTimer('M', 64 * T1, () => this.terminate());
          this.tu.response(res, this);
        } else if (this.state === 'accepted') {
          this.tu.response(res, this); // 2xx retransmission: the TU re-sends its ACK
        }
      } else {
        if (this.state === 'calling' || this.state === 'proceeding') {
          this.state = 'completed';
          this.stopTimer('A');
          this.stopTimer('B');
          this.lastResponse = res;
          this.#ack = this.#buildAck(res);
          this.transmit(this.#ack);
          this.startTimer('D', this.reliable ? 0 : Math.max(32000, 64 * T1), () => this.terminate());
          this.tu.response(res, this);
        } else if (this.state === 'completed' && this.#ack) {
          this.transmit(this.#ack);
        }
      }
      return;
    }
    if (this.state === 'completed') return;
    if (res.status < 200) {
      this.state = 'proceeding';
      this.lastResponse = res;
      this.tu.response(res, this);
      return;
    }
    this.state = 'completed';
    this.stopTimer('E');
    this.stopTimer('F');
    this.lastResponse = res;
    this.startTimer('K', this.reliable ? 0 : T4, () => this.terminate());
    this.tu.response(res, this);
  }

  /** ACK for a non-2xx final response (RFC 3261 §17.1.1.3). */
  #buildAck(res: SipResponse): SipRequest {
    const h = new SipHeaders();
    const via = this.request.headers.get('via');
    if (via) h.append('via', via);
    for (const r of this.request.headers.getAll('route')) h.append('route', r);
    h.append('max-forwards', '70');
    h.append('from', this.request.headers.get('from') ?? '');
    h.append('to', res.headers.get('to') ?? '');
    h.append('call-id', this.request.headers.get('call-id') ?? '');
    const seq = (this.request.headers.get('cseq') ?? '1').trim().split(/\s+/)[0];
    h.append('cseq', `${seq} ACK`);
    return { type: 'request', method: 'ACK', uri: this.request.uri, version: SIP_VERSION, headers: h, body: Buffer.alloc(0) };
  }

  protected onTransportError(): void {
    if (this.state === 'calling' || this.state === 'trying' || this.state === 'proceeding') {
      this.terminate();
      this.tu.timeout(this, 'transport');
    }
  }

}

// ------------------------------------------------------------------ server

export type ServerState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export interface ServerTransactionUser {
  /** Timer H fired (no ACK for a non-2xx final), or no ACK for a 2xx within 64*T1. */
  ackTimeout?(tx: ServerTransaction): void;
  /** A final non-2xx response was ACKed. */
  acked?(tx: ServerTransaction): void;
}

export class ServerTransaction extends TxBase {
  state: ServerState;
  readonly isInvite: boolean;
  lastResponse?: SipResponse;
  tu: ServerTransactionUser = {};
  /** Set when a CANCEL has been processed for this INVITE. */
  cancelled = false;

  constructor(host: TransactionHost, readonly request: SipRequest, dest: Endpoint, readonly key: string) {
    super(host, dest);
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'proceeding' : 'trying';
  }

  /** A retransmission of the request arrived. */
  retransmission(): void {
    if (this.lastResponse && this.state !== 'terminated' && this.state !== 'confirmed') this.#resend();
  }

  #resend(): void {
    if (this.lastResponse) this.transmit(this.lastResponse);
  }

  respond(res: SipResponse): void {
    const { T1, T2 } = this.host.timers;
    if (this.state === 'terminated' || this.state === 'completed' || this.state === 'confirmed' || this.state === 'accepted') return;
    this.lastResponse = res;
    this.transmit(res);
    if (res.status < 200) {
      if (this.state === 'trying') this.state = 'proceeding';
      return;
    }
    if (!this.isInvite) {
      this.state = 'completed';
      this.startTimer('J', this.reliable ? 0 : 64 * T1, () => this.terminate());
      return;
    }
    if (res.status < 300) {
      // RFC 6026 Accepted: the 2xx is retransmitted (RFC 3261 §13.3.1.4) until the TU sees the ACK.
      this.state = 'accepted';
      let interval = T1;
      const again = () => {
        if (this.state !== 'accepted') return;
        this.#resend();
        interval = Math.min(interval * 2, T2);
        this.startTimer('G2xx', interval, again);
      };
      if (!this.reliable) this.startTimer('G2xx', interval, again);
      this.startTimer('L', 64 * T1, () => {
        if (this.state === 'accepted') { this.terminate(); this.tu.ackTimeout?.(this); }
      });
      return;
    }
    this.state = 'completed';
    if (!this.reliable) {
      let interval = T1;
      const retransmitG = () => {
        if (this.state !== 'completed') return;
        this.#resend();
        interval = Math.min(interval * 2, T2);
        this.startTimer('G', interval, retransmitG);
      };
      this.startTimer('G', interval, retransmitG);
    }
    this.startTimer('H', 64 * T1, () => {
      if (this.state === 'completed') { this.terminate(); this.tu.ackTimeout?.(this); }
    });
  }

  /** ACK for a non-2xx final response (same branch). */
  ack(): void {
    if (this.state !== 'completed') return;
    this.state = 'confirmed';
    this.stopTimer('G');
    this.stopTimer('H');
    this.startTimer('I', this.reliable ? 0 : this.host.timers.T4, () => this.terminate());
    this.tu.acked?.(this);
  }

  /** The TU saw the ACK for our 2xx (a separate transaction): stop retransmitting. */
  ack2xx(): void {
    if (this.state !== 'accepted') return;
    this.stopTimer('G2xx');
    this.stopTimer('L');
    // Linger to absorb INVITE retransmissions.
    this.startTimer('linger', this.reliable ? 0 : 64 * this.host.timers.T1, () => this.terminate());
    this.#acked2xx = true;
  }

  #acked2xx = false;
  get acked2xx(): boolean {
    return this.#acked2xx;
  }

  protected onTransportError(): void {
    // Responses that cannot be delivered: nothing more we can do for this transaction.
  }

}
