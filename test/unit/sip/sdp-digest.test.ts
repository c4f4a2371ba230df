import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createAnswer, createOffer, processAnswer, answerDirection, SdpError } from '../../../sip/sdp.js';
import type { LocalMedia } from '../../../sip/sdp.js';
import { DigestServer, buildAuthorization, parseChallenge, parseCredentials, computeDigestResponse, pickChallenge } from '../../../sip/digest.js';
import { normalizeE164 } from '../../../sip/e164.js';
import { failureReasonForStatus } from '../../../sip/errors.js';

const local: LocalMedia = {
  address: '127.0.0.1', port: 40000,
  codecs: [
    { name: 'PCMU', clockRate: 8000, payloadType: 0 },
    { name: 'PCMA', clockRate: 8000, payloadType: 8 },
    { name: 'G722', clockRate: 8000, payloadType: 9 },
    { name: 'opus', clockRate: 48000, channels: 2, payloadType: 111, fmtp: 'useinbandfec=1' },
  ],
};
const session = { sessionId: '42', version: 1 };

const offer = (body: string) => `v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n${body}`;

describe('SDP offer/answer', () => {
  test('answer keeps the offerer payload numbers and picks its first common codec, with telephone-event', () => {
    const o = offer('m=audio 30000 RTP/AVP 96 8 100\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 minptime=10\r\na=rtpmap:100 telephone-event/8000\r\na=fmtp:100 0-15\r\na=ptime:20\r\n');
    const { sdp, media } = createAnswer(o, local, session);
    assert.equal(media.codec.name, 'opus');
    assert.equal(media.codec.payloadType, 96);
    assert.equal(media.telephoneEvent?.payloadType, 100);
    assert.equal(media.remoteAddress, '192.0.2.1');
    assert.equal(media.remotePort, 30000);
    assert.match(sdp, /m=audio 40000 RTP\/AVP 96 100\r\n/);
    assert.match(sdp, /a=rtpmap:96 opus\/48000\/2/);
    assert.match(sdp, /a=sendrecv/);
  });

  test('static payload types without rtpmap', () => {
    const { media } = createAnswer(offer('m=audio 30000 RTP/AVP 18 8 0\r\n'), local, session);
    assert.equal(media.codec.name, 'PCMA');
    assert.equal(media.codec.payloadType, 8);
    assert.equal(media.telephoneEvent, undefined);
  });

  test('hold offers get RFC 3264 direction answers; c=0.0.0.0 is hold', () => {
    assert.equal(createAnswer(offer('m=audio 30000 RTP/AVP 0\r\na=sendonly\r\n'), local, session).media.localDirection, 'recvonly');
    const inactive = createAnswer(offer('m=audio 30000 RTP/AVP 0\r\na=inactive\r\n'), local, session);
    assert.equal(inactive.media.localDirection, 'inactive');
    assert.equal(inactive.media.remoteHold, true);
    assert.match(inactive.sdp, /a=inactive/);
    const c0 = createAnswer(offer('m=audio 30000 RTP/AVP 0\r\n').replace('c=IN IP4 192.0.2.1', 'c=IN IP4 0.0.0.0'), local, session);
    assert.equal(c0.media.remoteHold, true);
    assert.equal(createAnswer(offer('m=audio 30000 RTP/AVP 0\r\na=recvonly\r\n'), local, session).media.localDirection, 'sendonly');
    assert.equal(answerDirection('sendrecv', 'sendonly'), 'sendonly');
    assert.equal(answerDirection('sendonly', 'sendonly'), 'inactive');
  });

  test('no common codec → SdpError(SDP_NO_COMMON_CODEC); extra streams rejected with port 0', () => {
    assert.throws(() => createAnswer(offer('m=audio 30000 RTP/AVP 18\r\n'), local, session), (e: unknown) => e instanceof SdpError && e.code === 'SDP_NO_COMMON_CODEC');
    const { sdp } = createAnswer(offer('m=audio 30000 RTP/AVP 0\r\nm=video 30002 RTP/AVP 31\r\n'), local, session);
    assert.match(sdp, /m=video 0 RTP\/AVP 31/);
  });

  test('our offer and the answer to it', () => {
    const o = createOffer(local, session, 'sendonly');
    assert.match(o, /m=audio 40000 RTP\/AVP 0 8 9 111 101/);
    assert.match(o, /a=rtpmap:101 telephone-event\/8000/);
    assert.match(o, /a=sendonly/);
    const ans = offer('m=audio 31000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n');
    const m = processAnswer(ans, local);
    assert.equal(m.codec.name, 'PCMA');
    assert.equal(m.localDirection, 'sendonly');
    assert.equal(m.remoteHold, false);
    assert.equal(m.telephoneEvent?.payloadType, 101);
  });
});

describe('digest', () => {
  test('RFC 2617 example (MD5, qop=auth)', () => {
    const r = computeDigestResponse({
      algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET',
      uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', nc: '00000001', cnonce: '0a4f113b', qop: 'auth',
    });
    assert.equal(r, '6629fae49393a05397450978507c4ef1');
  });

  test('RFC 7616 example (SHA-256, qop=auth)', () => {
    const r = computeDigestResponse({
      algorithm: 'SHA-256', username: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET',
      uri: '/dir/index.html', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', qop: 'auth',
    });
    assert.equal(r, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  test('server challenge → client answer → verify; wrong password and forged nonce fail', () => {
    const srv = new DigestServer();
    const [sha, md5] = srv.challenges('engine');
    assert.match(sha!, /algorithm=SHA-256/);
    assert.match(md5!, /algorithm=MD5/);
    for (const c of [sha!, md5!]) {
      const ch = parseChallenge(c)!;
      const auth = buildAuthorization(ch, { username: 'trunk1', password: 's3cret', method: 'INVITE', uri: 'sip:+15550100@engine' });
      const cred = parseCredentials(auth)!;
      assert.equal(srv.verify(cred, 'INVITE', 'engine', 's3cret'), 'ok');
      assert.equal(srv.verify(cred, 'INVITE', 'engine', 'wrong'), 'bad');
      assert.equal(srv.verify({ ...cred, nonce: `${cred.nonce.split('.')[0]}.forged` }, 'INVITE', 'engine', 's3cret'), 'bad');
    }
    assert.equal(pickChallenge([md5!, sha!])?.algorithm, 'SHA-256');
  });

  test('expired nonce is stale', () => {
    const srv = new DigestServer(1000);
    const nonce = srv.makeNonce(Date.now() - 60_000);
    assert.equal(srv.checkNonce(nonce), 'stale');
  });
});

describe('E.164 and end reasons', () => {
  test('normalizeE164', () => {
    assert.equal(normalizeE164('+1 (415) 555-0100'), '+14155550100');
    assert.equal(normalizeE164('tel:+442079460000'), '+442079460000');
    assert.equal(normalizeE164('00442079460000'), '+442079460000');
    assert.equal(normalizeE164('%2B14155550100'), '+14155550100');
    assert.equal(normalizeE164('02079460000', { defaultCountryCode: '44' }), '+442079460000');
    assert.equal(normalizeE164('4155550100', { defaultCountryCode: '1' }), '+14155550100');
    assert.equal(normalizeE164('+14155550100;npdi'), '+14155550100');
    assert.equal(normalizeE164('alice'), undefined);
    assert.equal(normalizeE164('+0123'), undefined);
  });

  test('failure statuses map to distinct end reasons', () => {
    assert.equal(failureReasonForStatus(486), 'busy');
    assert.equal(failureReasonForStatus(600), 'busy');
    assert.equal(failureReasonForStatus(480), 'no_answer');
    assert.equal(failureReasonForStatus(408), 'no_answer');
    assert.equal(failureReasonForStatus(603), 'rejected');
    assert.equal(failureReasonForStatus(404), 'rejected');
    assert.equal(failureReasonForStatus(503), 'failed_to_connect');
  });
});

describe('allowlist', () => {
  test('addresses and CIDRs, IPv4 and IPv6, mapped addresses; bad entries throw', async () => {
    const { createAllowList, AllowListError } = await import('../../../sip/allowlist.js');
    const allowed = createAllowList(['203.0.113.7', '198.51.100.0/24', '2001:db8::/32']);
    assert.equal(allowed('203.0.113.7'), true);
    assert.equal(allowed('203.0.113.8'), false);
    assert.equal(allowed('198.51.100.254'), true);
    assert.equal(allowed('::ffff:198.51.100.1'), true);
    assert.equal(allowed('2001:db8:1::5'), true);
    assert.equal(allowed('2001:db9::1'), false);
    assert.equal(allowed('not-an-ip'), false);
    assert.throws(() => createAllowList(['10.0.0.0/33']), AllowListError);
    assert.throws(() => createAllowList(['example.com']), AllowListError);
  });
});
