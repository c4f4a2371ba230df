# Generates the sipp scenario XML files in this folder: python3 generate.py
import os, textwrap
OUT=os.path.dirname(os.path.abspath(__file__))
HDR = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
FROM = 'From: "sipp" <sip:+14155550123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]'
TO0 = 'To: <sip:[service]@[remote_ip]:[remote_port]>'
VIA = 'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]'
CONTACT = 'Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>'
def sdp(pts='0 101', dirn=None, extra='', ver='2353687637'):
    rtpmap = {'0':'a=rtpmap:0 PCMU/8000','8':'a=rtpmap:8 PCMA/8000','18':'a=rtpmap:18 G729/8000','101':'a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15'}
    lines = ['v=0', f'o=user1 53655765 {ver} IN IP[local_ip_type] [local_ip]', 's=-', 'c=IN IP[media_ip_type] [media_ip]', 't=0 0', f'm=audio [media_port] RTP/AVP {pts}']
    lines += [rtpmap[p] for p in pts.split()]
    if dirn: lines.append(f'a={dirn}')
    if extra: lines.append(extra)
    return '\n'.join(lines)
def cdata(s):
    return '    <![CDATA[\n' + textwrap.indent(s.strip('\n'), '      ') + '\n    ]]>\n'
def send(msg, retrans=False):
    r = ' retrans="500"' if retrans else ''
    return f'  <send{r}>\n' + cdata(msg) + '  </send>\n'
def invite(cseq=1, body=None, extra_headers='', first=True):
    to = TO0 if first else TO0 + '[peer_tag_param]'
    uri = 'sip:[service]@[remote_ip]:[remote_port]' if first else '[next_url]'
    h = [f'INVITE {uri} SIP/2.0', VIA, FROM, to, 'Call-ID: [call_id]', f'CSeq: {cseq} INVITE', CONTACT, 'Max-Forwards: 70',
         'Allow: INVITE, ACK, BYE, CANCEL, UPDATE, INFO, NOTIFY, PRACK']
    if not first: h.append('[routes]')
    if extra_headers: h += extra_headers.strip('\n').split('\n')
    if body is not None:
        h += ['Content-Type: application/sdp', 'Content-Length: [len]', '', body]
    else:
        h += ['Content-Length: 0']
    return '\n'.join(h)
def indialog(method, cseq, body=None, ctype='application/sdp', extra=''):
    h = [f'{method} [next_url] SIP/2.0', VIA, FROM, TO0 + '[peer_tag_param]', 'Call-ID: [call_id]', f'CSeq: {cseq} {method}', '[routes]', 'Max-Forwards: 70']
    if method in ('INVITE','UPDATE','NOTIFY'): h.append(CONTACT)
    if extra: h += extra.strip('\n').split('\n')
    if body is not None: h += [f'Content-Type: {ctype}', 'Content-Length: [len]', '', body]
    else: h += ['Content-Length: 0']
    return '\n'.join(h)
def ack(cseq=1, body=None, branch='[branch]'):
    h = ['ACK [next_url] SIP/2.0', VIA.replace('[branch]', branch), FROM, TO0 + '[peer_tag_param]', 'Call-ID: [call_id]', f'CSeq: {cseq} ACK', '[routes]', 'Max-Forwards: 70']
    if body is not None: h += ['Content-Type: application/sdp', 'Content-Length: [len]', '', body]
    else: h += ['Content-Length: 0']
    return '\n'.join(h)
def ok_last(extra='', body=None, ctype='application/sdp', status='200 OK'):
    h = [f'SIP/2.0 {status}', '[last_Via:]', '[last_From:]', '[last_To:]', '[last_Call-ID:]', '[last_CSeq:]', CONTACT]
    if extra: h += extra.strip('\n').split('\n')
    if body is not None: h += [f'Content-Type: {ctype}', 'Content-Length: [len]', '', body]
    else: h.append('Content-Length: 0')
    return '\n'.join(h)
def ereg(rx, var, where='msg'):
    rx = rx.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')
    return f'      <ereg regexp="{rx}" search_in="{where}" check_it="true" assign_to="{var}"/>\n'
def recv_resp(code, checks=(), rrs=False, optional=False, extra_attrs=''):
    a = f'  <recv response="{code}"' + (' rrs="true"' if rrs else '') + (' optional="true"' if optional else '') + extra_attrs
    if not checks: return a + '/>\n'
    return a + '>\n    <action>\n' + ''.join('  ' + c for c in checks) + '    </action>\n  </recv>\n'
def recv_req(m, checks=(), rrs=False, extra_attrs=''):
    a = f'  <recv request="{m}"' + (' rrs="true"' if rrs else '') + extra_attrs
    if not checks: return a + '/>\n'
    return a + '>\n    <action>\n' + ''.join('  ' + c for c in checks) + '    </action>\n  </recv>\n'
def pause(ms): return f'  <pause milliseconds="{ms}"/>\n'
def scenario(name, comment, body, refs=()):
    s = HDR + f'<!-- {comment} -->\n<scenario name="{name}">\n' + body
    if refs: s += f'  <Reference variables="{",".join(refs)}"/>\n'
    s += '</scenario>\n'
    open(os.path.join(OUT, name + '.xml'), 'w').write(s)
def call_setup(extra_headers='', body=None, checks=()):
    b = sdp() if body is None else body
    return (send(invite(body=b, extra_headers=extra_headers), True) + recv_resp(100, optional=True) + recv_resp(180, optional=True)
            + recv_resp(200, checks, rrs=True) + send(ack()))
def bye_from_sipp(cseq):
    return send(indialog('BYE', cseq), True) + recv_resp(200, extra_attrs=' crlf="true"')
def bye_from_engine():
    return recv_req('BYE') + send(ok_last())

# 2. BYE from the engine
scenario('uac-bye-engine', 'Inbound call; the engine hangs up (BYE from the UAS side).',
  call_setup() + bye_from_engine() + pause(200))

# 3. CANCEL before answer
scenario('uac-cancel', 'Inbound call cancelled while ringing: CANCEL gets 200, the INVITE 487, then ACK.',
  send(invite(body=sdp()), True) + recv_resp(100, optional=True) + recv_resp(180)
  + send('\n'.join(['CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0', VIA.replace('[branch]', '[branch-3]'), FROM, TO0, 'Call-ID: [call_id]', 'CSeq: 1 CANCEL', 'Max-Forwards: 70', 'Content-Length: 0']), True)
  + recv_resp(200) + recv_resp(487)
  + send('\n'.join(['ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0', VIA.replace('[branch]', '[branch-6]'), FROM, TO0 + '[peer_tag_param]', 'Call-ID: [call_id]', 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length: 0']))
  + pause(200))

# 4. hold / resume / codec change / 488
scenario('uac-hold', 'Hold (sendonly -> recvonly), inactive, resume with a codec change to PCMA, and an unacceptable offer (488).',
  call_setup()
  + pause(100)
  + send(indialog('INVITE', 2, sdp(dirn='sendonly', ver='2353687638')), True) + recv_resp(100, optional=True)
  + recv_resp(200, [ereg('a=recvonly', 'h1', 'body')]) + send(ack(2))
  + send(indialog('INVITE', 3, sdp(dirn='inactive', ver='2353687639')), True) + recv_resp(100, optional=True)
  + recv_resp(200, [ereg('a=inactive', 'h2', 'body')]) + send(ack(3))
  + send(indialog('INVITE', 4, sdp(pts='8 101', dirn='sendrecv', ver='2353687640')), True) + recv_resp(100, optional=True)
  + recv_resp(200, [ereg('m=audio [0-9]+ RTP/AVP 8 101', 'h3', 'body'), ereg('a=sendrecv', 'h4', 'body')]) + send(ack(4))
  + send(indialog('INVITE', 5, sdp(pts='18', ver='2353687641')), True) + recv_resp(100, optional=True)
  + recv_resp(488) + send(ack(5, branch='[branch-3]'))
  + pause(100)
  + bye_from_sipp(6), refs=('h1','h2','h3','h4'))

# 5. late offer
scenario('uac-lateoffer', 'INVITE without SDP: the engine offers in the 200, sipp answers in the ACK (PCMA).',
  send(invite(body=None), True) + recv_resp(100, optional=True) + recv_resp(180, optional=True)
  + recv_resp(200, [ereg('m=audio [0-9]+ RTP/AVP 0 8 101', 'o1', 'body')], rrs=True)
  + send(ack(1, body=sdp(pts='8 101')))
  + pause(300) + bye_from_sipp(2), refs=('o1',))

# 6. UPDATE
scenario('uac-update', 'UPDATE with an SDP offer (hold -> recvonly answer) and UPDATE without SDP (session refresh).',
  call_setup(extra_headers='Supported: timer\nSession-Expires: 1800;refresher=uac')
  + send(indialog('UPDATE', 2, sdp(dirn='sendonly', ver='2353687638')), True)
  + recv_resp(200, [ereg('a=recvonly', 'u1', 'body')])
  + send(indialog('UPDATE', 3, extra='Supported: timer\nSession-Expires: 1800;refresher=uac'), True)
  + recv_resp(200, [ereg('Session-Expires: 1800;refresher=uac', 'u2')])
  + bye_from_sipp(4), refs=('u1','u2'))

# 7. session timers: 422 then refresher=uas, engine refreshes twice
scenario('uac-timer', 'RFC 4028: Session-Expires below Min-SE gets 422; then refresher=uas and the engine refreshes (UPDATE) twice.',
  send(invite(body=sdp(), extra_headers='Supported: timer\nSession-Expires: 1'), True) + recv_resp(100, optional=True)
  + recv_resp(422, [ereg('Min-SE: 2', 't0')])
  + send('\n'.join(['ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0', VIA.replace('[branch]', '[branch-3]'), FROM, TO0 + '[peer_tag_param]', 'Call-ID: [call_id]', 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length: 0']))
  + send(invite(cseq=2, body=sdp(), extra_headers='Supported: timer\nSession-Expires: 4;refresher=uas\nMin-SE: 2'), True)
  + recv_resp(100, optional=True) + recv_resp(180, optional=True)
  + recv_resp(200, [ereg('Session-Expires: 4;refresher=uas', 't1'), ereg('Require: timer', 't2')], rrs=True) + send(ack(2))
  + recv_req('UPDATE', [ereg('Session-Expires: 4;refresher=uac', 't3')]) + send(ok_last('Session-Expires: 4;refresher=uac\nRequire: timer'))
  + recv_req('UPDATE') + send(ok_last('Session-Expires: 4;refresher=uac\nRequire: timer'))
  + bye_from_sipp(3), refs=('t0','t1','t2','t3'))

# 8. 100rel
scenario('uac-100rel', 'Require: 100rel: the 180 is sent reliably (RSeq), PRACKed, then 200.',
  send(invite(body=sdp(), extra_headers='Supported: 100rel\nRequire: 100rel'), True) + recv_resp(100, optional=True)
  + recv_resp(180, [ereg('RSeq: ([0-9]+)', 'rseqall,rseq'), ereg('Require: 100rel', 'r1')], rrs=True)
  + send(indialog('PRACK', 2, extra='RAck: [$rseq1] 1 INVITE').replace('[$rseq1]', '[$rseq]'), True)
  + recv_resp(200, extra_attrs=' crlf="true"')
  + recv_resp(200, rrs=True) + send(ack(1))
  + pause(200) + bye_from_sipp(3), refs=('r1','rseqall'))

# 9. REFER
scenario('uac-refer', 'The engine transfers (REFER with Referred-By); sipp accepts and reports progress by NOTIFY sipfrag; the engine then hangs up.',
  call_setup()
  + recv_req('REFER', [ereg('Refer-To: <tel:\\+15550100>', 'rt'), ereg('Referred-By: ', 'rb')])
  + send(ok_last(status='202 Accepted'))
  + send(indialog('NOTIFY', 2, 'SIP/2.0 100 Trying', ctype='message/sipfrag;version=2.0', extra='Event: refer\nSubscription-State: active;expires=60'), True)
  + recv_resp(200)
  + send(indialog('NOTIFY', 3, 'SIP/2.0 200 OK', ctype='message/sipfrag;version=2.0', extra='Event: refer\nSubscription-State: terminated;reason=noresource'), True)
  + recv_resp(200)
  + bye_from_engine() + pause(200), refs=('rt','rb'))

# 10. bad messages
pad = 'X' * 17000
def opt(cseq, extra='', method='OPTIONS', mf='70'):
    h = [f'{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0', VIA, FROM, TO0, 'Call-ID: [call_id]', f'CSeq: {cseq} {method}', f'Max-Forwards: {mf}']
    if extra: h += extra.strip('\n').split('\n')
    h.append('Content-Length: 0')
    return '\n'.join(h)
scenario('uac-bad', 'Malformed (bad Max-Forwards -> 400 naming it), oversized (513), unknown method (501), unsupported Require (420), then OPTIONS still 200.',
  send(opt(1, mf='seventy')) + recv_resp(400, [ereg('SIP/2.0 400 Malformed Max-Forwards header', 'b1')])
  + send(opt(2, extra='X-Pad: ' + pad)) + recv_resp(513)
  + send(opt(3, method='FOO')) + recv_resp(501)
  + send(opt(4, extra='Require: foo, 100rel')) + recv_resp(420, [ereg('Unsupported: foo', 'b2')])
  + send(opt(5)) + recv_resp(200, [ereg('Allow: .*INVITE', 'b3'), ereg('Accept: application/sdp', 'b4'), ereg('Supported: ', 'b5')]),
  refs=('b1','b2','b3','b4','b5'))

# 11. flood
scenario('uac-flood', 'An unknown source floods INVITEs: 403 while under the limit, then silence.',
  send(invite(body=sdp())) + recv_resp(100, optional=True)
  + recv_resp(403, extra_attrs=' timeout="1500" ontimeout="end"')
  + send('\n'.join(['ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0', VIA.replace('[branch]', '[branch-3]'), FROM, TO0 + '[peer_tag_param]', 'Call-ID: [call_id]', 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length: 0']))
  + '  <label id="end"/>\n')

# ---------------------------------------------------------------- UAS (engine calls sipp)
def uas_resp(status, body=None, extra=''):
    h = [f'SIP/2.0 {status}', '[last_Via:]', '[last_From:]', '[last_To:];tag=[pid]SIPpTag01[call_number]', '[last_Call-ID:]', '[last_CSeq:]', CONTACT]
    if extra: h += extra.strip('\n').split('\n')
    if body is not None: h += ['Content-Type: application/sdp', 'Content-Length: [len]', '', body]
    else: h.append('Content-Length: 0')
    return '\n'.join(h)
uas_sdp = sdp(pts='0 101')
scenario('uas-answer', 'Engine calls sipp: INVITE checked (From display/user, P-Asserted-Identity), 180, 200, ACK; the engine hangs up.',
  recv_req('INVITE', [ereg('From: \\"Agent\\" <sip:\\+15550199@', 'f1'), ereg('P-Asserted-Identity: \\"Agent\\" <sip:\\+15550199@', 'p1'), ereg('Session-Expires: ', 's1')])
  + send(uas_resp('100 Trying')) + send(uas_resp('180 Ringing'))
  + send(uas_resp('200 OK', uas_sdp), True) + recv_req('ACK', extra_attrs=' crlf="true"')
  + recv_req('BYE') + send(uas_resp('200 OK')) + pause(200), refs=('f1','p1','s1'))

scenario('uas-auth', 'Engine calls sipp: 401 challenge (MD5, qop=auth), INVITE retried with Authorization (verified), 200; sipp hangs up.',
  recv_req('INVITE')
  + send(uas_resp('401 Unauthorized', extra='WWW-Authenticate: Digest realm="sipp.test", nonce="a1b2c3d4e5", qop="auth", algorithm=MD5'))
  + recv_req('ACK')
  + recv_req('INVITE', [ereg('Authorization: Digest', 'pa'), '      <verifyauth assign_to="authok" username="trunkuser" password="trunkpass"/>\n',
      '      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="fromfield"/>\n', '      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="tofield"/>\n'], rrs=True)
  + '  <nop hide="true" test="authok" next="good"/>\n'
  + send(uas_resp('403 Forbidden')) + recv_req('ACK') + '  <nop next="out"/>\n'
  + '  <label id="good"/>\n'
  + send(uas_resp('200 OK', uas_sdp), True) + recv_req('ACK', extra_attrs=' crlf="true"')
  + pause(300)
  + send('\n'.join(['BYE [next_url] SIP/2.0', VIA, 'From: [$tofield];tag=[pid]SIPpTag01[call_number]', 'To: [$fromfield]', 'Call-ID: [call_id]', 'CSeq: 1 BYE', 'Max-Forwards: 70', 'Content-Length: 0']), True)
  + recv_resp(200) + '  <label id="out"/>\n', refs=('pa',))

scenario('uas-busy', 'Engine calls sipp, which is busy (486).',
  recv_req('INVITE') + send(uas_resp('100 Trying')) + send(uas_resp('486 Busy Here')) + recv_req('ACK') + pause(100))

scenario('uas-noanswer', 'Engine calls sipp, which rings until the engine CANCELs (ring timeout): 200 for CANCEL, 487, ACK.',
  recv_req('INVITE', ['      <ereg regexp="CSeq: ([0-9]+)" search_in="msg" check_it="true" assign_to="csall,csn"/>\n'])
  + send(uas_resp('100 Trying')) + send(uas_resp('180 Ringing'))
  + recv_req('CANCEL') + send(uas_resp('200 OK'))
  + send('\n'.join(['SIP/2.0 487 Request Terminated', '[last_Via:]', '[last_From:]', '[last_To:];tag=[pid]SIPpTag01[call_number]', '[last_Call-ID:]', 'CSeq: [$csn] INVITE', 'Content-Length: 0']))
  + recv_req('ACK') + pause(100), refs=('csall',))

scenario('uas-earlymedia', 'Engine calls sipp: 183 with SDP (early media), then 200; the engine hangs up.',
  recv_req('INVITE') + send(uas_resp('100 Trying'))
  + send(uas_resp('183 Session Progress', uas_sdp)) + pause(300)
  + send(uas_resp('200 OK', uas_sdp), True) + recv_req('ACK', extra_attrs=' crlf="true"')
  + recv_req('BYE') + send(uas_resp('200 OK')) + pause(100))

# Benchmark UAC (bench/sip-setup.ts): answer, short hold, BYE.
scenario('bench-uac', 'Benchmark call: INVITE, 200, ACK, 100 ms hold, BYE.',
  send(invite(body=sdp()), True) + recv_resp(100, optional=True) + recv_resp(180, optional=True)
  + recv_resp(200, rrs=True) + send(ack()) + pause(100) + bye_from_sipp(2))

# Session expiry: sipp is the refresher and never refreshes; the engine must BYE before expiry.
scenario('uac-timer-expire', 'RFC 4028: the caller is the refresher (refresher=uac) and never refreshes; the engine sends BYE before the session expires.',
  call_setup(extra_headers='Supported: timer\nSession-Expires: 3;refresher=uac\nMin-SE: 2',
             checks=[ereg('Session-Expires: 3;refresher=uac', 'x1')])
  + bye_from_engine() + pause(100), refs=('x1',))
