import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ClientTransaction, ServerTransaction } from '../../../sip/transaction.js';
import type { TransactionHost } from '../../../sip/transaction.js';
import { parseMessage, createResponse } from '../../../sip/message.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../sip/message.js';
import type { Endpoint } from '../../../sip/transport.js';

// Tiny timers so the state machines run their course quickly; assertions are on counts and
// states, never on durations.
const T = { T1: 4, T2: 32, T4: 40 };
const udp: Endpoint = { protocol: 'udp', address: '127.0.0.1', port: 5060 };
const tcp: Endpoint = { protocol: 'tcp', address: '127.0.0.1', port: 5060 };

function host(): TransactionHost & { sent: SipMessage[]; ended: number } {
  const h = {
    timers: T, sent: [] as SipMessage[], ended: 0,
    send: async (m: SipMessage) => { h.sent.push(m); },
    terminated: () => { h.ended++; },
  };
  return h;
}

function request(method: string): SipRequest {
  return parseMessage(Buffer.from([
    `${method} sip:bob@example.com SIP/2.0`, 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKtx1', 'From: <sip:a@example.com>;tag=1',
    'To: <sip:bob@example.com>', 'Call-ID: tx@test', `CSeq: 1 ${method}`, 'Max-Forwards: 70', 'Content-Length: 0', '', '',
  ].join('\r\n'))) as SipRequest;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean) => { for (let i = 0; i < 500 && !cond(); i++) await sleep(5); };

describe('client transactions', () => {
  test('INVITE over UDP: Timer A retransmits, Timer B times out', async () => {
    const h = host();
    let timedOut = '';
    const tx = new ClientTransaction(h, request('INVITE'), udp, { response: () => undefined, timeout: (_t, c) => { timedOut = c; } }, 'z9hG4bKtx1');
    tx.start();
    await until(() => timedOut !== '');
    assert.equal(timedOut, 'timeout');
    assert.equal(tx.state, 'terminated');
    // 1 + retransmissions at T1, 2T1, 4T1 ... < 64 T1: at least 5 in all.
    assert.ok(h.sent.length >= 5, `sent ${h.sent.length}`);
    assert.ok(h.sent.every((m) => m.type === 'request' && m.method === 'INVITE'));
  });

  test('INVITE: 1xx stops retransmission; a non-2xx final is ACKed (same branch) and re-ACKed on retransmission', async () => {
    const h = host();
    const got: number[] = [];
    const req = request('INVITE');
    const tx = new ClientTransaction(h, req, udp, { response: (r) => got.push(r.status), timeout: () => undefined }, 'z9hG4bKtx1');
    tx.start();
    tx.receive(createResponse(req, 180, undefined, { toTag: 'x' }));
    const afterProv = h.sent.length;
    await sleep(T.T1 * 8);
    assert.equal(h.sent.length, afterProv, 'no retransmission in Proceeding');
    const busy = createResponse(req, 486, undefined, { toTag: 'x' });
    tx.receive(busy);
    tx.receive(busy);
    assert.deepEqual(got, [180, 486]);
    const acks = h.sent.filter((m) => m.type === 'request' && m.method === 'ACK') as SipRequest[];
    assert.equal(acks.length, 2);
    assert.equal(acks[0]!.headers.get('via'), req.headers.get('via'));
    assert.equal(acks[0]!.headers.get('cseq'), '1 ACK');
    assert.equal(tx.state, 'completed');
    tx.abort();
  });

  test('INVITE: 2xx goes to the TU (Accepted), retransmitted 2xx too', () => {
    const h = host();
    const got: number[] = [];
    const req = request('INVITE');
    const tx = new ClientTransaction(h, req, udp, { response: (r) => got.push(r.status), timeout: () => undefined }, 'z9hG4bKtx1');
    tx.start();
    const ok = createResponse(req, 200, undefined, { toTag: 'x' });
    tx.receive(ok);
    tx.receive(ok);
    assert.equal(tx.state, 'accepted');
    assert.deepEqual(got, [200, 200]);
    assert.equal(h.sent.filter((m) => m.type === 'request' && m.method === 'ACK').length, 0, 'the TU acks 2xx');
    tx.abort();
  });

  test('non-INVITE over UDP: Timer E retransmits (capped at T2), Timer F times out', async () => {
    const h = host();
    let timedOut = false;
    const tx = new ClientTransaction(h, request('OPTIONS'), udp, { response: () => undefined, timeout: () => { timedOut = true; } }, 'z9hG4bKtx1');
    tx.start();
    await until(() => timedOut);
    assert.ok(timedOut);
    assert.ok(h.sent.length >= 5);
  });

  test('non-INVITE over TCP: no retransmission; final → Completed → Terminated (Timer K = 0)', async () => {
    const h = host();
    const req = request('BYE');
    const tx = new ClientTransaction(h, req, tcp, { response: () => undefined, timeout: () => undefined }, 'z9hG4bKtx1');
    tx.start();
    await sleep(T.T1 * 4);
    assert.equal(h.sent.length, 1);
    tx.receive(createResponse(req, 200));
    await until(() => tx.state === 'terminated');
    assert.equal(tx.state, 'terminated');
    assert.equal(h.ended, 1);
  });
});

describe('server transactions', () => {
  test('INVITE non-2xx: Timer G retransmits until ACK, then Confirmed → Terminated (Timer I)', async () => {
    const h = host();
    const req = request('INVITE');
    const tx = new ServerTransaction(h, req, udp, 'k');
    tx.respond(createResponse(req, 100));
    tx.respond(createResponse(req, 486, undefined, { toTag: 'y' }));
    await until(() => h.sent.length >= 3);
    assert.ok(h.sent.length >= 3, 'the 486 was retransmitted');
    assert.equal(tx.state, 'completed');
    tx.ack();
    assert.equal(tx.state, 'confirmed');
    const n = h.sent.length;
    await until(() => tx.state === 'terminated');
    assert.equal(h.sent.length, n, 'no retransmission after ACK');
    assert.equal(tx.state, 'terminated');
  });

  test('INVITE non-2xx without ACK: Timer H ends it and tells the TU', async () => {
    const h = host();
    const req = request('INVITE');
    const tx = new ServerTransaction(h, req, udp, 'k');
    let timeout = false;
    tx.tu = { ackTimeout: () => { timeout = true; } };
    tx.respond(createResponse(req, 603, undefined, { toTag: 'y' }));
    await until(() => timeout);
    assert.ok(timeout);
    assert.equal(tx.state, 'terminated');
  });

  test('INVITE 2xx is retransmitted until the ACK is seen; request retransmissions get the last response', async () => {
    const h = host();
    const req = request('INVITE');
    const tx = new ServerTransaction(h, req, udp, 'k');
    tx.respond(createResponse(req, 180, undefined, { toTag: 'y' }));
    tx.retransmission();
    assert.equal((h.sent[1] as SipResponse).status, 180);
    tx.respond(createResponse(req, 200, undefined, { toTag: 'y' }));
    await until(() => h.sent.length >= 4);
    assert.ok(h.sent.length >= 4, 'the 200 was retransmitted');
    tx.ack2xx();
    assert.ok(tx.acked2xx);
    const n = h.sent.length;
    await sleep(T.T2 * 2);
    assert.equal(h.sent.length, n);
    tx.abort();
  });

  test('non-INVITE: final response resent for retransmitted requests, Timer J ends it', async () => {
    const h = host();
    const req = request('OPTIONS');
    const tx = new ServerTransaction(h, req, udp, 'k');
    tx.respond(createResponse(req, 200));
    tx.retransmission();
    tx.retransmission();
    assert.equal(h.sent.length, 3);
    assert.equal(tx.state, 'completed');
    await until(() => tx.state === 'terminated');
    assert.equal(tx.state, 'terminated');
  });
});
