/**
 * SIP transports: one UDP socket, a TCP listener and optionally a TLS listener, sharing one
 * message callback. Stream transports frame by Content-Length. Connections are kept in a map
 * keyed by "<protocol>:<address>:<port>" of the remote end, so responses and in-dialog requests
 * reuse the connection a peer opened.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import dns from 'node:dns/promises';
import { SipTransportError, SipParseError } from './errors.js';
import { parseMessage, DEFAULT_MAX_MESSAGE_SIZE, SipMessageError } from './message.js';
import type { SipMessage } from './message.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

export interface Endpoint {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

export interface TlsOptions {
  /** PEM certificate chain and key. */
  cert: string | Buffer;
  key: string | Buffer;
  /** Listening port; 0 picks one. Omit to accept no inbound TLS (outbound still works). */
  port?: number;
  /** Verify peers' certificates on outbound TLS (default false: carriers often use private CAs). */
  rejectUnauthorized?: boolean;
  ca?: string | Buffer;
}

export interface TransportOptions {
  /** Bind address (default 0.0.0.0). */
  host?: string;
  /** UDP and TCP port (0 picks a free port, shared by both when possible). Default 5060. */
  port?: number;
  /** Address placed in Via/Contact/SDP (NAT). Defaults to the bind address, or 127.0.0.1 for 0.0.0.0. */
  advertisedAddress?: string;
  tls?: TlsOptions;
  /** Disable TCP listener (UDP only). */
  tcp?: boolean;
  maxMessageSize?: number;
}

export interface TransportEvents {
  message(msg: SipMessage, source: Endpoint, raw: Buffer): void;
  parseError(err: SipParseError, source: Endpoint, raw: Buffer, partial: SipMessageError['partial']): void;
  sent?(raw: Buffer, dest: Endpoint): void;
}

function key(e: Endpoint): string {
  return `${e.protocol}:${e.address}:${e.port}`;
}

function normaliseAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

const CL_RE = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

class StreamFramer {
  #buf: Buffer = Buffer.alloc(0);
  constructor(
    private readonly max: number,
    private readonly onFrame: (b: Buffer) => void,
    private readonly onError: (err: SipParseError, raw: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    for (;;) {
      let s = 0;
      while (s < this.#buf.length && (this.#buf[s] === 0x0d || this.#buf[s] === 0x0a)) s++;
      if (s) this.#buf = this.#buf.subarray(s);
      if (!this.#buf.length) return;
      const he = this.#buf.indexOf('\r\n\r\n', 0, 'latin1');
      if (he < 0) {
        if (this.#buf.length > this.max) {
          const raw = this.#buf;
          this.#buf = Buffer.alloc(0);
          this.onError(new SipParseError(513, 'Message Too Large'), raw);
        }
        return;
      }
      const head = this.#buf.toString('latin1', 0, he);
      const m = CL_RE.exec(head);
      if (!m) {
        const raw = this.#buf.subarray(0, he + 4);
        this.#buf = this.#buf.subarray(he + 4);
        this.onError(new SipParseError(400, 'Missing Content-Length header'), raw);
        continue;
      }
      const total = he + 4 + Number(m[1]);
      if (this.#buf.length < total) {
        if (total > this.max && this.#buf.length > this.max) {
          // Refuse to buffer a giant body; answer from the header and discard as it arrives.
          this.onError(new SipParseError(513, 'Message Too Large'), this.#buf.subarray(0, he + 4));
          this.#buf = Buffer.alloc(0);
        }
        return;
      }
      const frame = this.#buf.subarray(0, total);
      this.#buf = this.#buf.subarray(total);
      this.onFrame(Buffer.from(frame));
    }
  }
}

export class TransportLayer {
  readonly #opts: TransportOptions;
  readonly #events: TransportEvents;
  #udp?: dgram.Socket;
  #udp6?: dgram.Socket;
  #tcp?: net.Server;
  #tls?: tls.Server;
  #conns = new Map<string, net.Socket>();
  #pending = new Map<string, Promise<net.Socket>>();
  #ports: Partial<Record<TransportProtocol, number>> = {};
  #closed = false;

  constructor(opts: TransportOptions, events: TransportEvents) {
    this.#opts = opts;
    this.#events = events;
  }

  get maxMessageSize(): number {
    return this.#opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** Address to advertise in Via/Contact/SDP. */
  get advertisedAddress(): string {
    const a = this.#opts.advertisedAddress;
    if (a) return a;
    const h = this.#opts.host ?? '0.0.0.0';
    return h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h;
  }

  port(protocol: TransportProtocol): number | undefined {
    return this.#ports[protocol];
  }

  async start(): Promise<void> {
    const host = this.#opts.host ?? '0.0.0.0';
    const wanted = this.#opts.port ?? 5060;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#bindUdp(host, wanted);
        const udpPort = this.#udp!.address().port;
        if (this.#opts.tcp !== false) await this.#listenTcp(host, udpPort);
        break;
      } catch (e) {
        this.#udp?.close();
        this.#udp = undefined;
        if (wanted !== 0 || attempt > 20) throw e;
      }
    }
    if (this.#opts.tls?.port !== undefined) await this.#listenTls(host, this.#opts.tls.port);
  }

  #bindUdp(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        sock.on('error', () => { /* ICMP errors on send: ignore */ });
        this.#udp = sock;
        this.#ports.udp = sock.address().port;
        sock.on('message', (buf, rinfo) => this.#onDatagram(buf, { protocol: 'udp', address: normaliseAddress(rinfo.address), port: rinfo.port }));
        resolve();
      });
    });
  }

  #listenTcp(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer((sock) => this.#adopt(sock, 'tcp'));
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        this.#tcp = srv;
        this.#ports.tcp = (srv.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  #listenTls(host: string, port: number): Promise<void> {
    const t = this.#opts.tls!;
    return new Promise((resolve, reject) => {
      const srv = tls.createServer({ cert: t.cert, key: t.key }, (sock) => this.#adopt(sock, 'tls'));
      srv.once('error', reject);
      srv.on('tlsClientError', () => { /* bad handshake: ignore */ });
      srv.listen(port, host, () => {
        srv.off('error', reject);
        this.#tls = srv;
        this.#ports.tls = (srv.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  #onDatagram(buf: Buffer, source: Endpoint): void {
    if (buf.length <= 4 && buf.toString('latin1').trim() === '') return; // keep-alive
    this.#deliver(buf, source, false);
  }

  #deliver(buf: Buffer, source: Endpoint, stream: boolean): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(buf, { maxSize: this.maxMessageSize, stream });
    } catch (e) {
      if (e instanceof SipParseError) {
        this.#events.parseError(e, source, buf, e instanceof SipMessageError ? e.partial : undefined);
        return;
      }
      throw e;
    }
    try {
      this.#events.message(msg, source, buf);
    } catch (e) {
      // A bug in a handler must never take the transport down.
      process.emitWarning(`sip: message handler threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  #adopt(sock: net.Socket, protocol: TransportProtocol, ep?: Endpoint): Endpoint {
    const remote: Endpoint = ep ?? { protocol, address: normaliseAddress(sock.remoteAddress ?? ''), port: sock.remotePort ?? 0 };
    const k = key(remote);
    this.#conns.set(k, sock);
    sock.setNoDelay(true);
    const framer = new StreamFramer(
      this.maxMessageSize,
      (frame) => this.#deliver(frame, remote, true),
      (err, raw) => {
        let partial: SipMessageError['partial'];
        try { parseMessage(raw, { maxSize: Number.MAX_SAFE_INTEGER }); } catch (e) { if (e instanceof SipMessageError) partial = e.partial; }
        this.#events.parseError(err, remote, raw, partial);
      },
    );
    sock.on('data', (d: Buffer) => framer.push(d));
    sock.on('error', () => { /* closed below */ });
    sock.on('close', () => { if (this.#conns.get(k) === sock) this.#conns.delete(k); });
    sock.setTimeout(0);
    return remote;
  }

  async #connect(dest: Endpoint): Promise<net.Socket> {
    const k = key(dest);
    const existing = this.#conns.get(k);
    if (existing && !existing.destroyed) return existing;
    const p = this.#pending.get(k);
    if (p) return p;
    const promise = new Promise<net.Socket>((resolve, reject) => {
      const onErr = (e: Error) => reject(new SipTransportError('SIP_TRANSPORT', `connect ${k}: ${e.message}`));
      let sock: net.Socket;
      if (dest.protocol === 'tls') {
        const t = this.#opts.tls;
        const tlsOpts: tls.ConnectionOptions = { host: dest.address, port: dest.port, rejectUnauthorized: t?.rejectUnauthorized ?? false };
        if (t?.ca) tlsOpts.ca = t.ca;
        if (t?.cert && t.key) { tlsOpts.cert = t.cert; tlsOpts.key = t.key; }
        if (!net.isIP(dest.address)) tlsOpts.servername = dest.address;
        sock = tls.connect(tlsOpts, () => { sock.off('error', onErr); resolve(sock); });
      } else {
        sock = net.connect({ host: dest.address, port: dest.port }, () => { sock.off('error', onErr); resolve(sock); });
      }
      sock.once('error', onErr);
      this.#adopt(sock, dest.protocol, dest);
    });
    this.#pending.set(k, promise);
    try {
      return await promise;
    } finally {
      this.#pending.delete(k);
    }
  }

  async resolve(host: string): Promise<string> {
    if (net.isIP(host)) return host;
    const r = await dns.lookup(host, { family: 4 }).catch(() => dns.lookup(host));
    return r.address;
  }

  /** Send raw bytes to `dest` (address must be an IP). */
  async send(raw: Buffer, dest: Endpoint): Promise<void> {
    if (this.#closed) throw new SipTransportError('SIP_CLOSED', 'transport closed');
    this.#events.sent?.(raw, dest);
    if (dest.protocol === 'udp') {
      const sock = dest.address.includes(':') ? await this.#ensureUdp6() : this.#udp;
      if (!sock) throw new SipTransportError('SIP_CLOSED', 'no UDP socket');
      await new Promise<void>((resolve, reject) => sock.send(raw, dest.port, dest.address, (err) => (err ? reject(new SipTransportError('SIP_TRANSPORT', err.message)) : resolve())));
      return;
    }
    const sock = await this.#connect(dest);
    await new Promise<void>((resolve, reject) => sock.write(raw, (err) => (err ? reject(new SipTransportError('SIP_TRANSPORT', err.message)) : resolve())));
  }

  async #ensureUdp6(): Promise<dgram.Socket | undefined> {
    if (this.#udp && this.#udp.address().family === 'IPv6') return this.#udp;
    if (this.#udp6) return this.#udp6;
    const s = dgram.createSocket('udp6');
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(0, '::', () => resolve()); });
    s.on('message', (buf, rinfo) => this.#onDatagram(buf, { protocol: 'udp', address: rinfo.address, port: rinfo.port }));
    this.#udp6 = s;
    return s;
  }

  hasConnection(dest: Endpoint): boolean {
    const c = this.#conns.get(key(dest));
    return !!c && !c.destroyed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#conns.values()) s.destroy();
    this.#conns.clear();
    const closeSrv = (s?: net.Server) => (s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve());
    await Promise.all([
      closeSrv(this.#tcp), closeSrv(this.#tls),
      this.#udp ? new Promise<void>((r) => this.#udp!.close(() => r())) : undefined,
      this.#udp6 ? new Promise<void>((r) => this.#udp6!.close(() => r())) : undefined,
    ]);
  }
}
