import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

// Distinctive clear values, so that a match in the raw bytes can only be a leak.
const TRUNK_PASSWORD = 'trunk-pw-Zq8v1xK3mN5';
const WEBHOOK_SECRET = 'whsec-Ab7Cd9Ef1Gh3Ij5';
const BYOK_KEY = 'sk-byok-Lm2No4Pq6Rs8Tu0';
const RESEND_KEY = 're_byok_Vw1Xy3Za5Bc7De9';

/** Every file SQLite keeps for the database: the main file, the WAL and the shared-memory index. */
function dbFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith('engine.db')).map((f) => join(dir, f));
}

function assertNoClearSecrets(dir: string, extra: string[] = []): void {
  const files = dbFiles(dir);
  assert.ok(files.some((f) => f.endsWith('engine.db')), 'engine.db exists');
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const secret of [TRUNK_PASSWORD, WEBHOOK_SECRET, BYOK_KEY, RESEND_KEY, ...extra]) {
      assert.equal(bytes.indexOf(Buffer.from(secret, 'utf8')), -1, `${secret} appears in clear in ${file}`);
      assert.equal(bytes.indexOf(Buffer.from(secret, 'utf16le')), -1, `${secret} appears (UTF-16) in ${file}`);
    }
  }
}

describe('persistence across a restart and secrets at rest (issue 2 part 2)', () => {
  let t: TestEngine;
  const ids: Obj = {};
  let snapshot: Obj = {};
  let childKey = '';

  before(async () => {
    t = await startTestEngine();
    const assistant = await api<Obj>(t, 'POST', '/assistants', {
      name: 'Persistent', first_message: 'Hello there', webhook_url: 'https://example.com/hook', webhook_secret: WEBHOOK_SECRET,
      llm_config: { provider: 'openai', model: 'gpt-4o', temperature: 0.3, messages: [{ role: 'system', content: 'Be brief.' }] },
    });
    assert.equal(assistant.status, 201, JSON.stringify(assistant.body));
    ids.assistant = assistant.body.assistant.id;
    const trunk = await api<Obj>(t, 'POST', '/sip-trunks', {
      name: 'Carrier', address: 'sip.carrier.example', auth_username: 'acct-1', auth_password: TRUNK_PASSWORD, inbound_addresses: ['203.0.113.0/24'],
    });
    assert.equal(trunk.status, 201, JSON.stringify(trunk.body));
    ids.trunk = trunk.body.trunk.id;
    const number = await api<Obj>(t, 'POST', '/numbers', { phone_number: '+31850835037', agent_id: ids.assistant, transfer_trunk_id: ids.trunk, name: 'Main line' });
    assert.equal(number.status, 201, JSON.stringify(number.body));
    ids.number = number.body.number.id;
    assert.equal((await api<Obj>(t, 'POST', '/byok', { provider: 'openai', api_key: BYOK_KEY })).status, 200);
    assert.equal((await api<Obj>(t, 'POST', '/byok', { provider: 'resend', api_key: RESEND_KEY })).status, 200);
    assert.equal((await api<Obj>(t, 'POST', '/byok/config', { provider: 'openai', config: { organization: 'org-123' } })).status, 200);
    const child = await api<Obj>(t, 'POST', '/organizations', { name: 'Child' });
    childKey = child.body.api_key;

    snapshot = {
      assistant: (await api<Obj>(t, 'GET', `/assistants/${ids.assistant}`)).body,
      trunk: (await api<Obj>(t, 'GET', `/sip-trunks/${ids.trunk}`)).body,
      number: (await api<Obj>(t, 'GET', `/numbers/${ids.number}`)).body,
      byok: (await api<Obj>(t, 'GET', '/byok')).body,
      org: (await api<Obj>(t, 'GET', '/organizations?include_children=true')).body,
    };
  });
  after(async () => { await t.close(); });

  test('no secret is in clear in engine.db or engine.db-wal while the engine runs', () => {
    assert.ok(existsSync(join(t.dataDir, 'engine.db-wal')), 'WAL mode: the -wal file exists');
    assertNoClearSecrets(t.dataDir, [childKey, t.key]);
    // Control: a non-secret value written alongside is found in the same bytes, so the search works.
    const all = Buffer.concat(dbFiles(t.dataDir).map((f) => readFileSync(f)));
    assert.notEqual(all.indexOf(Buffer.from('sip.carrier.example')), -1);
    assert.notEqual(all.indexOf(Buffer.from('acct-1')), -1);
  });

  test('master.key is created with mode 0600', () => {
    const st = statSync(join(t.dataDir, 'master.key'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.match(readFileSync(join(t.dataDir, 'master.key'), 'utf8').trim(), /^[0-9a-f]{64}$/);
  });

  test('after a restart on the same file: assistants, trunks, numbers, BYOK and organizations are unchanged', async () => {
    t = await t.restart();
    assert.deepEqual((await api<Obj>(t, 'GET', `/assistants/${ids.assistant}`)).body, snapshot.assistant);
    assert.deepEqual((await api<Obj>(t, 'GET', `/sip-trunks/${ids.trunk}`)).body, snapshot.trunk);
    assert.deepEqual((await api<Obj>(t, 'GET', `/numbers/${ids.number}`)).body, snapshot.number);
    assert.deepEqual((await api<Obj>(t, 'GET', '/byok')).body, snapshot.byok);
    assert.deepEqual((await api<Obj>(t, 'GET', '/organizations?include_children=true')).body, snapshot.org);
    assert.ok((await api<Obj>(t, 'GET', '/assistants')).body.assistants.some((a: Obj) => a.id === ids.assistant));
    assert.ok((await api<Obj>(t, 'GET', '/sip-trunks')).body.trunks.some((x: Obj) => x.id === ids.trunk));
    assert.ok((await api<Obj>(t, 'GET', '/numbers')).body.numbers.some((x: Obj) => x.id === ids.number));
    // The child organization's key still works; the bootstrap key did not change.
    assert.equal((await api<Obj>({ url: t.url, key: childKey }, 'GET', '/organizations')).status, 200);
    // Sealed secrets open again with the same master key file.
    const org = snapshot.org.id as string;
    assert.equal(t.engine.store.byok.key(org, 'openai'), BYOK_KEY);
    assert.deepEqual(t.engine.store.byok.config(org, 'openai'), { organization: 'org-123' });
    assert.equal(t.engine.store.trunks.get(org, ids.trunk)?.auth_password, TRUNK_PASSWORD);
    assert.equal(t.engine.store.assistants.get(org, ids.assistant)?.webhook_secret, WEBHOOK_SECRET);
  });

  test('after the restart (WAL checkpointed into engine.db) still no secret in clear', () => {
    assertNoClearSecrets(t.dataDir, [childKey, t.key]);
  });

  test('secrets never appear in API answers', async () => {
    const answers = JSON.stringify([
      (await api<Obj>(t, 'GET', `/sip-trunks/${ids.trunk}`)).body,
      (await api<Obj>(t, 'GET', '/sip-trunks')).body,
      (await api<Obj>(t, 'GET', '/byok')).body,
      (await api<Obj>(t, 'GET', '/byok/config')).body,
    ]);
    for (const s of [TRUNK_PASSWORD, BYOK_KEY, RESEND_KEY]) assert.ok(!answers.includes(s), s);
  });
});
