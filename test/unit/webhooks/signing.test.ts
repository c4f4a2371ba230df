import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verifyRequest, verifySignature, webhookHeaders } from '../../../engine/webhooks/index.js';

// Expected values computed independently with Python's hmac module.
const BODY = '{"message":{"type":"status-update"}}';
const SIG = 'sha256=c38cb6fdc6acaf418d0bba3e4232b8ab2e5f3892a14a83cd29927a6851381c77';

describe('sign', () => {
  test('HMAC-SHA256 over "<timestamp>.<raw body>", hex, sha256= prefix', () => {
    assert.equal(sign('whsec_test', 1_700_000_000, BODY), SIG);
    assert.equal(sign('whsec_test', 1_700_000_000, Buffer.from(BODY)), SIG);
  });
  test('the UTF-8 bytes are signed', () => {
    assert.equal(sign('k', 1_700_000_000, '{"t":"é"}'), 'sha256=1a824645cc24fb4ba4e70da20dffbcaa3e762ac18ce2471c23f9e0d8171555cf');
  });
});

describe('verifySignature', () => {
  const base = { secret: 'whsec_test', rawBody: BODY, signature: SIG, timestamp: '1700000000', nowSeconds: 1_700_000_010 };
  test('accepts the right signature', () => assert.deepEqual(verifySignature(base), { ok: true }));
  test('accepts upper-case hex', () => assert.deepEqual(verifySignature({ ...base, signature: 'sha256=' + SIG.slice(7).toUpperCase() }), { ok: true }));
  test('rejects a changed body', () => assert.deepEqual(verifySignature({ ...base, rawBody: BODY.replace('status', 'Status') }), { ok: false, reason: 'mismatch' }));
  test('rejects a wrong secret', () => assert.deepEqual(verifySignature({ ...base, secret: 'other' }), { ok: false, reason: 'mismatch' }));
  test('rejects a changed timestamp', () => assert.deepEqual(verifySignature({ ...base, timestamp: '1700000001' }), { ok: false, reason: 'mismatch' }));
  test('300 s tolerance, both directions', () => {
    assert.deepEqual(verifySignature({ ...base, nowSeconds: 1_700_000_300 }), { ok: true });
    assert.deepEqual(verifySignature({ ...base, nowSeconds: 1_700_000_301 }), { ok: false, reason: 'expired' });
    assert.deepEqual(verifySignature({ ...base, nowSeconds: 1_699_999_699 }), { ok: false, reason: 'expired' });
    assert.deepEqual(verifySignature({ ...base, nowSeconds: 1_700_000_301, toleranceSeconds: 600 }), { ok: true });
  });
  test('missing and malformed headers', () => {
    assert.deepEqual(verifySignature({ ...base, signature: undefined }), { ok: false, reason: 'missing_signature' });
    assert.deepEqual(verifySignature({ ...base, timestamp: null }), { ok: false, reason: 'missing_timestamp' });
    assert.deepEqual(verifySignature({ ...base, signature: SIG.slice(7) }), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySignature({ ...base, signature: 'sha256=abc' }), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySignature({ ...base, timestamp: '1700000000000.5' }), { ok: false, reason: 'malformed' });
  });
  test('verifyRequest reads Node and fetch header bags', () => {
    const h = { 'x-webhook-signature': SIG, 'x-webhook-timestamp': '1700000000' };
    assert.deepEqual(verifyRequest(h, BODY, 'whsec_test', { nowSeconds: 1_700_000_000 }), { ok: true });
    assert.deepEqual(verifyRequest(new Headers(h), BODY, 'whsec_test', { nowSeconds: 1_700_000_000 }), { ok: true });
  });
});

describe('webhookHeaders', () => {
  test('all spec headers; the signature only with a secret', () => {
    const signed = webhookHeaders({ event: 'tool-calls', id: 'evt-1', attempt: 2, secret: 'whsec_test', timestampSeconds: 1_700_000_000.9, body: BODY });
    assert.deepEqual(signed, {
      'Content-Type': 'application/json',
      'User-Agent': 'VoiceEngine/1.0',
      'X-Webhook-Event': 'tool-calls',
      'X-Webhook-Timestamp': '1700000000',
      'X-Webhook-Id': 'evt-1',
      'X-Webhook-Attempt': '2',
      'X-Webhook-Signature': SIG,
    });
    const unsigned = webhookHeaders({ event: 'status-update', id: 'evt-2', attempt: 1, secret: null, timestampSeconds: 1, body: BODY });
    assert.equal('X-Webhook-Signature' in unsigned, false);
  });
});
