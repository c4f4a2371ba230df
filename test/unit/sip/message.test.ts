import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  parseMessage, serializeMessage, parseUri, formatUri, parseNameAddr, formatNameAddr, parseVia, SipMessageError,
  createResponse, splitTopLevel,
} from '../../../sip/message.js';
import type { SipRequest, SipResponse } from '../../../sip/message.js';
import { SipParseError } from '../../../sip/errors.js';

const dir = fileURLToPath(new URL('../../fixtures/sip/', import.meta.url));
const fixture = (name: string): Buffer => readFileSync(`${dir}${name}`);
const req = (name: string): SipRequest => {
  const m = parseMessage(fixture(`valid/${name}.sip`));
  assert.equal(m.type, 'request');
  return m as SipRequest;
};

describe('RFC 4475-style valid messages', () => {
  test('wsinv: folding, odd whitespace, escaped quotes, compact forms, Via lists', () => {
    const m = req('wsinv');
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    const to = parseNameAddr(m.headers.get('to')!);
    assert.equal(to.uri, 'sip:vivekg@chair-dnrc.example.com');
    assert.equal(to.params['tag'], '1918181833n');
    const from = parseNameAddr(m.headers.get('From')!);
    assert.equal(from.display, 'J Rosenberg \\"');
    assert.equal(from.params['tag'], '98asjd8');
    assert.equal(m.headers.get('max-forwards'), '0068');
    assert.equal(m.headers.get('cseq'), '0009 INVITE');
    const vias = m.headers.getAll('via').map(parseVia);
    assert.equal(vias.length, 3);
    assert.deepEqual(vias.map((v) => [v.transport, v.host, v.params['branch']]), [
      ['UDP', '192.0.2.2', '390skdjuw'], ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'], ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    assert.equal(m.headers.get('subject'), '');
    assert.equal(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
    const contact = parseNameAddr(m.headers.get('contact')!);
    assert.equal(contact.display, 'Quoted string ""');
    assert.equal(contact.params['newparam'], 'newvalue');
    assert.equal(contact.params['secondparam'], null);
    assert.equal(contact.params['q'], '0.33');
    assert.equal(m.body.length, Number(m.headers.get('content-length')));
    assert.match(m.body.toString(), /^v=0\r\n/);
  });

  test('compact header names expand to their long forms', () => {
    const m = req('compact');
    for (const h of ['via', 'from', 'to', 'call-id', 'contact', 'supported', 'session-expires', 'content-type', 'content-length']) {
      assert.ok(m.headers.has(h), h);
    }
    assert.deepEqual(m.headers.getAll('supported'), ['100rel', 'timer']);
    assert.equal(m.headers.get('Session-Expires'), '1800;refresher=uac');
  });

  test('escaped characters in URIs are kept, and decoded on request', () => {
    const m = req('esc01');
    const u = parseUri(m.uri);
    assert.equal(u.user, 'sips%3Auser%40example.com');
    assert.equal(u.host, 'example.net');
    const c = parseUri(parseNameAddr(m.headers.get('contact')!).uri);
    assert.equal(c.user, 'cal%6Cer');
    assert.equal(c.params['n%61me'], 'v%61lue%25%34%31');
  });

  test('IPv6 references in Request-URI, Via and Contact', () => {
    const m = req('ipv6');
    const u = parseUri(m.uri);
    assert.equal(u.host, '2001:db8::10');
    assert.equal(u.port, 5070);
    assert.equal(formatUri(u), 'sip:user@[2001:db8::10]:5070');
    const v = parseVia(m.headers.get('via')!);
    assert.equal(v.host, '2001:db8::9:1');
    assert.equal(v.port, 5060);
    assert.equal(v.params['received'], '[2001:db8::9:255]');
    assert.equal(parseUri(parseNameAddr(m.headers.get('contact')!).uri).host, '2001:db8::9:1');
  });

  test('multi-value headers: comma lists split outside quotes and brackets, repeated headers kept in order', () => {
    const m = req('multivalue');
    assert.equal(m.headers.getAll('via').length, 3);
    assert.equal(parseVia(m.headers.getAll('via')[2]!).params['received'], '192.0.2.99');
    const contacts = m.headers.getAll('contact').map(parseNameAddr);
    assert.equal(contacts.length, 2);
    assert.equal(contacts[1]!.display, 'Comma, inside');
    assert.equal(parseNameAddr(m.headers.get('from')!).display, 'Bob, "the builder"');
    assert.deepEqual(m.headers.getAll('supported'), ['timer', '100rel', 'replaces']);
    assert.deepEqual(m.headers.getAll('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  });

  test('display name without whitespace before <', () => {
    const m = req('lwsdisp');
    assert.equal(parseNameAddr(m.headers.get('from')!).display, 'caller');
  });

  test('intmeth: unusual but legal tokens, method, URI, UTF-8 values', () => {
    const m = req('intmeth');
    assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert.equal(parseUri(m.uri).host, 'example.com');
    assert.equal(parseNameAddr(m.headers.get('from')!).params['tag'], "_token~1'+`*%!-.");
    assert.equal(m.headers.get("extensionHeader-!.%*+_`'~"), '大停電');
  });

  test('responses, including an empty reason phrase', () => {
    const r = parseMessage(fixture('valid/response.sip')) as SipResponse;
    assert.equal(r.type, 'response');
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.headers.getAll('record-route').length, 2);
    const n = parseMessage(fixture('valid/noreason.sip')) as SipResponse;
    assert.equal(n.status, 100);
    assert.equal(n.reason, '');
  });

  test('bare LF line endings are tolerated', () => {
    const m = parseMessage(Buffer.from(fixture('valid/lwsdisp.sip').toString('latin1').replace(/\r\n/g, '\n'), 'latin1'));
    assert.equal(m.type, 'request');
  });
});

describe('invalid messages give the status and a reason naming the problem', () => {
  const cases: [string, number, RegExp][] = [
    ['clerr', 400, /Content-Length/],
    ['ncl', 400, /Content-Length/],
    ['cseqmeth', 400, /CSeq/],
    ['nocallid', 400, /Call-ID/],
    ['quotbal', 400, /From|quoted/i],
    ['badvers', 505, /Version/],
    ['scheme', 416, /Scheme/],
    ['unkscm', 416, /Scheme/],
    ['reqline', 400, /Request-Line/],
    ['ipv6bug', 400, /Request-URI/],
    ['viaipv6', 400, /Via/],
    ['multicl', 400, /Content-Length/],
    ['maxfwd', 400, /Max-Forwards/],
    ['noheadercolon', 400, /header/i],
    ['ltgtruri', 400, /Request-URI/],
    ['novia', 400, /Via/],
    ['badaor', 400, /To/],
  ];
  for (const [name, status, reason] of cases) {
    test(name, () => {
      assert.throws(() => parseMessage(fixture(`invalid/${name}.sip`)), (e: unknown) => {
        assert.ok(e instanceof SipParseError);
        assert.equal(e.status, status);
        assert.match(e.reason, reason);
        return true;
      });
    });
  }

  test('oversized message → 513 with the headers kept for the answer', () => {
    const big = fixture('valid/lwsdisp.sip').toString('latin1').replace('l: 0', `X-Pad: ${'a'.repeat(20000)}\r\nl: 0`);
    assert.throws(() => parseMessage(Buffer.from(big, 'latin1'), { maxSize: 16384 }), (e: unknown) => {
      assert.ok(e instanceof SipMessageError);
      assert.equal(e.status, 513);
      assert.equal(e.partial?.headers.get('call-id'), 'lwsdisp.1234abcd@funky.example.com');
      return true;
    });
  });

  test('stream framing needs Content-Length', () => {
    const noCl = fixture('valid/lwsdisp.sip').toString('latin1').replace('l: 0\r\n', '');
    assert.throws(() => parseMessage(Buffer.from(noCl, 'latin1'), { stream: true }), (e: unknown) => e instanceof SipParseError && e.status === 400);
    assert.equal(parseMessage(Buffer.from(noCl, 'latin1')).type, 'request');
  });

  test('garbage is rejected, never thrown as a non-SIP error', () => {
    for (const junk of ['', '\r\n\r\n', 'hello', '\x00\x01\x02', 'INVITE', 'SIP/2.0 abc OK\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n']) {
      assert.throws(() => parseMessage(Buffer.from(junk, 'latin1')), (e: unknown) => e instanceof SipParseError, JSON.stringify(junk));
    }
  });
});

describe('serializer', () => {
  test('round-trips a parsed message and recomputes Content-Length', () => {
    const m = req('wsinv');
    const out = serializeMessage(m);
    const again = parseMessage(out) as SipRequest;
    assert.equal(again.method, m.method);
    assert.equal(again.uri, m.uri);
    assert.deepEqual(again.headers.getAll('via'), m.headers.getAll('via'));
    assert.deepEqual(again.body, m.body);
    const text = out.toString();
    assert.match(text, /\r\nCall-ID: wsinv\.ndaksdj@192\.0\.2\.1\r\n/);
    assert.match(text, /\r\nCSeq: 0009 INVITE\r\n/);
    assert.match(text, new RegExp(`\\r\\nContent-Length: ${m.body.length}\\r\\n\\r\\n`));
  });

  test('createResponse copies Via/From/Call-ID/CSeq and adds a To tag', () => {
    const m = req('compact');
    const r = createResponse(m, 486, undefined, { toTag: 'abc' });
    assert.equal(r.reason, 'Busy Here');
    assert.equal(parseNameAddr(r.headers.get('to')!).params['tag'], 'abc');
    assert.deepEqual(r.headers.getAll('via'), m.headers.getAll('via'));
    assert.match(serializeMessage(r).toString(), /^SIP\/2\.0 486 Busy Here\r\n/);
  });

  test('name-addr formatting quotes and escapes display names', () => {
    const s = formatNameAddr({ display: 'A "quoted" \\ name', uri: 'sip:a@b', params: { tag: 'x' } });
    assert.equal(s, '"A \\"quoted\\" \\\\ name" <sip:a@b>;tag=x');
    assert.equal(parseNameAddr(s).display, 'A "quoted" \\ name');
  });

  test('splitTopLevel ignores separators in quotes and brackets', () => {
    assert.deepEqual(splitTopLevel('"a,b" <sip:x;p=1,2>, c', ','), ['"a,b" <sip:x;p=1,2>', ' c']);
  });

  test('tel: URIs are parsed and formatted as given', () => {
    const u = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    assert.equal(u.scheme, 'tel');
    assert.equal(u.user, '+1-201-555-0123');
    assert.equal(formatUri(u), 'tel:+1-201-555-0123;phone-context=example.com');
  });
});
