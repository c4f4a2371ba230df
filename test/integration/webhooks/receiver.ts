/**
 * A real webhook receiver on 127.0.0.1 (random port) for tests: records every request with its
 * raw bytes, checks the signature with the engine's own `verifyRequest`, and answers from a
 * script (status, body, delay, redirect).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyRequest, type VerifyResult } from '../../../engine/webhooks/index.js';

export interface Received {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  json: unknown;
  /** null when the receiver has no secret for this path. */
  verified: VerifyResult | null;
  /** Order of arrival, 0-based. */
  index: number;
}

export interface Reply {
  status?: number;
  body?: string | object;
  /** Wait this long before answering (to provoke timeouts). */
  delayMs?: number;
  headers?: Record<string, string>;
}

export type Responder = (req: Received) => Reply | Promise<Reply>;

export class Receiver {
  readonly received: Received[] = [];
  #server: Server;
  #responder: Responder = () => ({ status: 200, body: {} });
  #secrets = new Map<string, string>();
  #waiters: { n: number; resolve: () => void }[] = [];
  #timers = new Set<NodeJS.Timeout>();
  url = '';

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#handle(req.url ?? '/', req.method ?? 'GET', req.headers, Buffer.concat(chunks), res));
    });
  }

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    await new Promise<void>((resolve, reject) => {
      r.#server.once('error', reject);
      r.#server.listen(0, '127.0.0.1', () => resolve());
    });
    r.url = `http://127.0.0.1:${(r.#server.address() as AddressInfo).port}`;
    return r;
  }

  /** Requests to `path` are verified against `secret`. */
  secret(path: string, secret: string): this {
    this.#secrets.set(path, secret);
    return this;
  }

  respond(fn: Responder): this {
    this.#responder = fn;
    return this;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Resolves once at least `n` requests have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`receiver: ${this.received.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({ n, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  async #handle(path: string, method: string, headers: IncomingHttpHeaders, raw: Buffer, res: ServerResponse): Promise<void> {
    let json: unknown = undefined;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      json = undefined;
    }
    const secret = this.#secrets.get(path);
    const rec: Received = {
      path, method, headers, raw, json, index: this.received.length,
      verified: secret === undefined ? null : verifyRequest(headers, raw, secret),
    };
    this.received.push(rec);
    this.#waiters = this.#waiters.filter((w) => (this.received.length >= w.n ? (w.resolve(), false) : true));
    const reply = await this.#responder(rec);
    const send = (): void => {
      if (res.destroyed) return;
      const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(body);
    };
    if (reply.delayMs) {
      const t = setTimeout(() => { this.#timers.delete(t); send(); }, reply.delayMs);
      this.#timers.add(t);
    } else send();
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export const header = (r: Received, name: string): string | undefined => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};
