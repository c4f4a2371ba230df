import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

const TRUNK_KEYS = ['id', 'org_id', 'name', 'provider', 'address', 'transport', 'auth_username', 'is_active', 'created_at', 'updated_at',
  'host', 'port', 'username', 'inbound_addresses', 'outbound_number', 'outbound_proxy', 'register', 'send_pai', 'registration'].sort();

describe('SIP trunks API', () => {
  let t: TestEngine;
  let other: { url: string; key: string };

  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '10000' } });
    const org = t.engine.store.organizations.create({ name: 'Other org', parent_org_id: null });
    other = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key };
  });
  after(async () => { await t.close(); });

  const count = async (): Promise<number> => (await api<Obj>(t, 'GET', '/sip-trunks')).body.trunks.length;
  const create = (body: Obj) => api<Obj>(t, 'POST', '/sip-trunks', body);

  test('create (newest SDK shape): exact response, password never returned', async () => {
    const r = await create({
      name: 'Carrier', provider: 'voys', address: 'sip.voys.example', auth_username: 'acct-1', auth_password: 'pw-Very-Secret-1',
      transport: 'tcp', inbound_addresses: ['203.0.113.0/24', '198.51.100.7', '2001:db8::/32'], outbound_number: '+31850835037',
    });
    assert.equal(r.status, 201);
    const tr = r.body.trunk;
    assert.deepEqual(Object.keys(r.body), ['trunk']);
    assert.deepEqual(Object.keys(tr).sort(), TRUNK_KEYS);
    const orgId = t.engine.store.apiKeys.findByKey(t.key)?.org_id;
    assert.deepEqual({ ...tr, id: 'x', created_at: 'x', updated_at: 'x' }, {
      id: 'x', org_id: orgId, name: 'Carrier', provider: 'voys', address: 'sip.voys.example', transport: 'tcp',
      auth_username: 'acct-1', is_active: true, created_at: 'x', updated_at: 'x', host: 'sip.voys.example', port: 5060,
      username: 'acct-1', inbound_addresses: ['203.0.113.0/24', '198.51.100.7', '2001:db8::/32'], outbound_number: '+31850835037',
      outbound_proxy: null, register: false, send_pai: false, registration: null,
    });
    assert.ok(!JSON.stringify(r.body).includes('pw-Very-Secret-1'));
    const got = await api<Obj>(t, 'GET', `/sip-trunks/${tr.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { trunk: tr });
    assert.ok(!JSON.stringify((await api<Obj>(t, 'GET', '/sip-trunks')).body).includes('pw-Very-Secret-1'));
    // The SIP layer reads the clear password through the repository.
    assert.equal(t.engine.store.trunks.get(orgId as string, tr.id)?.auth_password, 'pw-Very-Secret-1');
  });

  test('the trunk password is not in the database file in clear', async () => {
    const secret = 'trunk-pw-' + 'Zq9'.repeat(6);
    assert.equal((await create({ name: 'Sealed', address: 'sip.sealed.example', auth_username: 'u', auth_password: secret })).status, 201);
    for (const f of ['engine.db', 'engine.db-wal']) {
      const p = join(t.dataDir, f);
      if (existsSync(p)) assert.ok(!readFileSync(p).includes(Buffer.from(secret)), `${f} holds the password in clear`);
    }
  });

  test('seed-era aliases: host + port, username, password; defaults provider "generic", transport "udp"', async () => {
    const r = await create({ name: 'Old style', host: 'pbx.example.com', port: 5080, username: 'alice', password: 'pw' });
    assert.equal(r.status, 201);
    const tr = r.body.trunk;
    assert.equal(tr.address, 'pbx.example.com:5080');
    assert.equal(tr.host, 'pbx.example.com');
    assert.equal(tr.port, 5080);
    assert.equal(tr.auth_username, 'alice');
    assert.equal(tr.username, 'alice');
    assert.equal(tr.provider, 'generic');
    assert.equal(tr.transport, 'udp');
    assert.equal(tr.password, undefined);
    assert.equal(tr.auth_password, undefined);
    const byHostOnly = (await create({ name: 'Host only', host: '192.0.2.1' })).body.trunk;
    assert.deepEqual([byHostOnly.address, byHostOnly.port], ['192.0.2.1', 5060]);
  });

  test('address forms: host:port, outbound_address alias, IPv6 in brackets, TLS default port 5061, transport null', async () => {
    const a = (await create({ name: 'a', address: 'sip.example.com:5060' })).body.trunk;
    assert.deepEqual([a.address, a.host, a.port], ['sip.example.com', 'sip.example.com', 5060]);
    const b = (await create({ name: 'b', outbound_address: '10.1.2.3:5070' })).body.trunk;
    assert.deepEqual([b.address, b.host, b.port], ['10.1.2.3:5070', '10.1.2.3', 5070]);
    const c = (await create({ name: 'c', address: '[2001:db8::1]:5080' })).body.trunk;
    assert.deepEqual([c.address, c.host, c.port], ['[2001:db8::1]:5080', '2001:db8::1', 5080]);
    const d = (await create({ name: 'd', address: '[2001:db8::2]', transport: 'tls' })).body.trunk;
    assert.deepEqual([d.address, d.host, d.port, d.transport], ['[2001:db8::2]', '2001:db8::2', 5061, 'tls']);
    const e = (await create({ name: 'e', address: 'tls.example.com', port: 5060, transport: 'tls' })).body.trunk;
    assert.deepEqual([e.address, e.port], ['tls.example.com:5060', 5060]);
    const f = (await create({ name: 'f', address: 'x.example.com', transport: null })).body.trunk;
    assert.equal(f.transport, 'udp');
    const g = (await create({ name: 'g', address: 'sip.example.com:5090', port: 5090 })).body.trunk;
    assert.equal(g.port, 5090);
  });

  test('engine extensions: register (with credentials), outbound_proxy, send_pai, read-only registration', async () => {
    const r = await create({
      name: 'Registering', address: 'reg.example.com', auth_username: 'u1', auth_password: 'p1', register: true,
      outbound_proxy: 'sip:proxy.example.com:5060;lr', send_pai: true, registration: { status: 'registered' },
    });
    assert.equal(r.status, 201);
    const tr = r.body.trunk;
    assert.equal(tr.register, true);
    assert.equal(tr.send_pai, true);
    assert.equal(tr.outbound_proxy, 'sip:proxy.example.com:5060;lr');
    assert.equal(tr.registration, null, 'registration cannot be written through the API');
    t.engine.store.trunks.setRegistration(tr.id, 'failed', '403 Forbidden');
    const got = (await api<Obj>(t, 'GET', `/sip-trunks/${tr.id}`)).body.trunk;
    assert.equal(got.registration.status, 'failed');
    assert.equal(got.registration.error, '403 Forbidden');
    assert.match(got.registration.updated_at, /^\d{4}-\d\d-\d\dT/);
    const proxy2 = (await create({ name: 'p2', address: 'a.example', outbound_proxy: '198.51.100.9:5062' })).body.trunk;
    assert.equal(proxy2.outbound_proxy, '198.51.100.9:5062');
  });

  const rejects = async (body: Obj, param: string, code = 'invalid_value'): Promise<Obj> => {
    const r = await create(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.param, param, JSON.stringify(r.body));
    assert.equal(r.body.code, code);
    assert.equal(r.body.type, 'invalid_request_error');
    return r.body;
  };

  test('validation: required fields, every problem listed', async () => {
    const before = await count();
    const b = await rejects({}, 'name', 'missing_field');
    assert.ok(b.details.includes('address is required'));
    await rejects({ name: 'x' }, 'address', 'missing_field');
    await rejects({ name: '', address: 'a.example' }, 'name');
    await rejects({ name: 5, address: 'a.example' }, 'name');
    const mixed = await rejects({ name: 5, address: 'bad host!', transport: 'x', register: true }, 'name');
    assert.deepEqual(mixed.details.map((d: string) => d.split(' ')[0]), ['name', 'transport', 'address', 'auth_username', 'auth_password']);
    const arr = await api<Obj>(t, 'POST', '/sip-trunks', [{ name: 'x' }]);
    assert.equal(arr.status, 400);
    assert.equal(arr.body.param, 'body');
    assert.equal(await count(), before);
  });

  test('validation: address syntax (host or host:port, IPv6 in brackets, port range)', async () => {
    const before = await count();
    for (const address of ['bad host!', '2001:db8::1', 'sip.example.com:99999', 'sip.example.com:0', 'sip.example.com:', ':5060', 'a..b', '-a.example', '[not-v6]:5060', 'sip:x.example', '']) {
      await rejects({ name: 'x', address }, 'address');
    }
    await rejects({ name: 'x', outbound_address: 'no spaces.example' }, 'outbound_address');
    await rejects({ name: 'x', host: 'pbx.example.com:5060' }, 'host');
    await rejects({ name: 'x', host: 'pbx.example.com', port: 70000 }, 'port');
    await rejects({ name: 'x', host: 'pbx.example.com', port: 50.5 }, 'port');
    await rejects({ name: 'x', address: 'a.example:5070', port: 5080 }, 'port');
    await rejects({ name: 'x', address: 'a.example', outbound_address: 'b.example' }, 'outbound_address');
    await rejects({ name: 'x', address: 'a.example', host: 'b.example' }, 'host');
    assert.equal(await count(), before);
  });

  test('validation: transport enum, inbound_addresses IPs/CIDRs, outbound_number, proxy', async () => {
    const before = await count();
    const tb = await rejects({ name: 'x', address: 'a.example', transport: 'sctp' }, 'transport');
    assert.match(tb.message, /"udp", "tcp", "tls"/);
    await rejects({ name: 'x', address: 'a.example', transport: 'UDP' }, 'transport');
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0', '2001:db8::/129', '10.0.0.1/8/2', '10.0.0.1/']) {
      await rejects({ name: 'x', address: 'a.example', inbound_addresses: ['192.0.2.1', bad] }, 'inbound_addresses[1]');
    }
    await rejects({ name: 'x', address: 'a.example', inbound_addresses: '192.0.2.1' }, 'inbound_addresses');
    await rejects({ name: 'x', address: 'a.example', inbound_addresses: [5] }, 'inbound_addresses[0]');
    await rejects({ name: 'x', address: 'a.example', outbound_number: '0850835037' }, 'outbound_number');
    await rejects({ name: 'x', address: 'a.example', outbound_proxy: 'http://proxy' }, 'outbound_proxy');
    await rejects({ name: 'x', address: 'a.example', register: 'yes' }, 'register');
    await rejects({ name: 'x', address: 'a.example', send_pai: 1 }, 'send_pai');
    assert.equal(await count(), before);
  });

  test('validation: credentials (register needs both; password needs a user name; aliases must agree)', async () => {
    const before = await count();
    const both = await rejects({ name: 'x', address: 'a.example', register: true }, 'auth_username', 'missing_field');
    assert.deepEqual(both.details, ['auth_username is required when register is true', 'auth_password is required when register is true']);
    await rejects({ name: 'x', address: 'a.example', register: true, username: 'u' }, 'auth_password', 'missing_field');
    await rejects({ name: 'x', address: 'a.example', password: 'p' }, 'auth_username', 'missing_field');
    await rejects({ name: 'x', address: 'a.example', auth_username: 'u', username: 'v' }, 'username');
    await rejects({ name: 'x', address: 'a.example', auth_password: 'p', password: 'q', auth_username: 'u' }, 'password');
    assert.equal(await count(), before);
  });

  test('list newest first; unknown and foreign trunks 404; no update endpoint', async () => {
    const a = (await create({ name: 'first', address: 'first.example' })).body.trunk;
    const b = (await create({ name: 'second', address: 'second.example' })).body.trunk;
    const list = await api<Obj>(t, 'GET', '/sip-trunks');
    assert.equal(list.status, 200);
    const ids = list.body.trunks.map((x: Obj) => x.id);
    assert.ok(ids.indexOf(b.id) < ids.indexOf(a.id));
    assert.equal((await api<Obj>(other, 'GET', '/sip-trunks')).body.trunks.length, 0);
    for (const [who, method, id] of [[other, 'GET', a.id], [other, 'DELETE', a.id], [t, 'GET', 'nope'], [t, 'DELETE', '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f']] as const) {
      const r = await api<Obj>(who, method, `/sip-trunks/${id}`);
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'not_found');
    }
    assert.equal((await api<Obj>(t, 'PATCH', `/sip-trunks/${a.id}`, { name: 'renamed' })).status, 404);
    assert.equal((await api<Obj>(t, 'GET', `/sip-trunks/${a.id}`)).body.trunk.name, 'first');
  });

  test('DELETE: 200 {success:true}; numbers that used the trunk get transfer_trunk_id null', async () => {
    const tr = (await create({ name: 'Doomed', address: 'doomed.example' })).body.trunk;
    const n = (await api<Obj>(t, 'POST', '/numbers', { phone_number: '+31201234567', transfer_trunk_id: tr.id })).body.number;
    assert.equal(n.transfer_trunk_name, 'Doomed');
    const r = await api<Obj>(t, 'DELETE', `/sip-trunks/${tr.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true });
    assert.equal((await api<Obj>(t, 'GET', `/sip-trunks/${tr.id}`)).status, 404);
    const after = (await api<Obj>(t, 'GET', `/numbers/${n.id}`)).body.number;
    assert.equal(after.transfer_trunk_id, null);
    assert.equal(after.transfer_trunk_name, null);
  });

  test('trunks persist across a restart (password still sealed and readable)', async () => {
    const tr = (await create({ name: 'Durable', address: 'durable.example', auth_username: 'd', auth_password: 'durable-pw' })).body.trunk;
    t = await t.restart();
    const got = await api<Obj>(t, 'GET', `/sip-trunks/${tr.id}`);
    assert.deepEqual(got.body.trunk, tr);
    assert.equal(t.engine.store.trunks.getById(tr.id)?.auth_password, 'durable-pw');
  });
});
