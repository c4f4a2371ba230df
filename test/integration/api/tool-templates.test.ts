import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DEST = { type: 'number', number: '+31850835037', description: 'Sales desk' };

describe('tool templates API (spec §3.2, §4.19)', () => {
  let t: TestEngine;
  let other: { url: string; key: string };
  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '100000' } });
    const org = t.engine.store.organizations.create({ name: 'Other org', parent_org_id: null });
    other = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key };
  });
  after(async () => { await t.close(); });
  const count = async () => (await api<Obj>(t, 'GET', '/tool-templates')).body.tool_templates.length;

  test('create a function template: exact shape, name defaults stay implicit', async () => {
    const r = await api<Obj>(t, 'POST', '/tool-templates', {
      name: 'check_availability', description: 'Checks the calendar', tool_type: 'function',
      tool_config: { parameters: { type: 'object', properties: { date: { type: 'string' } } }, url: 'https://example.com/hook', async: false, ignored: 1 },
    });
    assert.equal(r.status, 201);
    const tpl = r.body.tool_template;
    assert.deepEqual(Object.keys(tpl).sort(), ['created_at', 'description', 'id', 'name', 'org_id', 'tool_config', 'tool_type', 'updated_at']);
    assert.match(tpl.id, /^[0-9a-f-]{36}$/);
    assert.equal(tpl.org_id, t.engine.store.apiKeys.findByKey(t.key)?.org_id);
    assert.equal(tpl.name, 'check_availability');
    assert.equal(tpl.description, 'Checks the calendar');
    assert.equal(tpl.tool_type, 'function');
    assert.deepEqual(tpl.tool_config, { parameters: { type: 'object', properties: { date: { type: 'string' } } }, url: 'https://example.com/hook', async: false });
    assert.match(tpl.created_at, TS);
    assert.match(tpl.updated_at, TS);
    const got = await api<Obj>(t, 'GET', `/tool-templates/${tpl.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { tool_template: tpl });
  });

  test('all five tool_type spellings are accepted and emitted in snake_case', async () => {
    const cases: [string, Obj, string][] = [
      ['function', { name: 'lookup' }, 'function'],
      ['end_call', {}, 'end_call'],
      ['endCall', {}, 'end_call'],
      ['transfer_call', { destinations: [DEST] }, 'transfer_call'],
      ['transferCall', { destinations: [{ number: '+442071234567', description: 'London', message: 'Connecting you' }] }, 'transfer_call'],
    ];
    for (const [spelling, cfg, stored] of cases) {
      const r = await api<Obj>(t, 'POST', '/tool-templates', { name: `Template ${spelling}`, tool_type: spelling, tool_config: cfg });
      assert.equal(r.status, 201, spelling);
      assert.equal(r.body.tool_template.tool_type, stored);
      assert.equal(r.body.tool_template.description, null);
    }
    const list = (await api<Obj>(t, 'GET', '/tool-templates')).body.tool_templates;
    const transfer = list.find((x: Obj) => x.name === 'Template transferCall');
    assert.deepEqual(transfer.tool_config, { destinations: [{ type: 'number', number: '+442071234567', description: 'London', message: 'Connecting you' }] });
    const end = list.find((x: Obj) => x.name === 'Template endCall');
    assert.deepEqual(end.tool_config, {});
    // newest first
    assert.equal(list[0].name, 'Template transferCall');
  });

  test('validation: missing fields, unknown type, invalid function names, empty destinations; nothing written', async () => {
    const before = await count();
    let r = await api<Obj>(t, 'POST', '/tool-templates', { tool_type: 'function', tool_config: {} });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'name');
    assert.equal(r.body.code, 'missing_field');

    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'x' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details, ['tool_type is required', 'tool_config is required']);
    // schema problems and the engine's own rules are listed together
    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'x', description: 5, tool_type: 'transfer_call', tool_config: { destinations: [] } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details, ['description must be a string or null', 'tool_config.destinations must be a non-empty array']);
    r = await api<Obj>(t, 'POST', '/tool-templates', 'just a string');
    assert.equal(r.status, 400);

    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'x', tool_type: 'webhook', tool_config: {} });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_type');
    assert.match(r.body.message, /must be one of "function", "end_call", "transfer_call", "endCall", "transferCall"/);

    // the template name becomes the function name, so it must satisfy the rule
    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'Check availability', tool_type: 'function', tool_config: {} });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'name');
    assert.equal(r.body.code, 'invalid_value');
    // ... unless tool_config.name is given
    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'Check availability', tool_type: 'function', tool_config: { name: '9lives' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_config.name');

    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'a'.repeat(65), tool_type: 'function', tool_config: {} });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'name');

    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'xfer', tool_type: 'transfer_call', tool_config: {} });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_config.destinations');
    assert.equal(r.body.code, 'missing_field');
    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'xfer', tool_type: 'transfer_call', tool_config: { destinations: [] } });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_config.destinations');
    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'xfer', tool_type: 'transferCall', tool_config: { destinations: [{ number: '0612345678' }] } });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_config.destinations[0].number');
    assert.ok(r.body.details.includes('tool_config.destinations[0].description is required'));

    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'fn', tool_type: 'function', tool_config: { url: 'ftp://x', async: 'yes', parameters: [] } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details.map((d: string) => d.split(' ')[0]), ['tool_config.parameters', 'tool_config.url', 'tool_config.async']);

    r = await api<Obj>(t, 'POST', '/tool-templates', { name: 'fn', tool_type: 'function', tool_config: 'nope' });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_config');
    assert.equal(await count(), before);
  });

  test('legacy flat input {name, description, type, url, async, parameters} is converted', async () => {
    const r = await api<Obj>(t, 'POST', '/tool-templates', {
      name: 'book_table', description: 'Books a table', type: 'function', url: 'https://example.com/book', async: true,
      parameters: { type: 'object', properties: { guests: { type: 'integer' } } },
    });
    assert.equal(r.status, 201);
    const tpl = r.body.tool_template;
    assert.equal(tpl.tool_type, 'function');
    assert.equal(tpl.description, 'Books a table');
    assert.deepEqual(tpl.tool_config, {
      description: 'Books a table', url: 'https://example.com/book', async: true, parameters: { type: 'object', properties: { guests: { type: 'integer' } } },
    });
    assert.equal('type' in tpl, false);
    const end = await api<Obj>(t, 'POST', '/tool-templates', { name: 'bye', type: 'endCall' });
    assert.equal(end.status, 201);
    assert.equal(end.body.tool_template.tool_type, 'end_call');
    assert.deepEqual(end.body.tool_template.tool_config, {});
  });

  test('PATCH: only given fields change, tool_config replaces, type change needs a matching config', async () => {
    const tpl = (await api<Obj>(t, 'POST', '/tool-templates', {
      name: 'lookup_order', description: 'Finds an order', tool_type: 'function', tool_config: { url: 'https://example.com/a', async: true },
    })).body.tool_template;

    let r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { description: 'Finds an order by number' });
    assert.equal(r.status, 200);
    assert.equal(r.body.tool_template.description, 'Finds an order by number');
    assert.equal(r.body.tool_template.name, 'lookup_order');
    assert.deepEqual(r.body.tool_template.tool_config, { url: 'https://example.com/a', async: true });
    assert.equal(r.body.tool_template.created_at, tpl.created_at);

    r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { tool_config: { parameters: { type: 'object' } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.tool_template.tool_config, { parameters: { type: 'object' } });

    // changing the type without a config: 400, nothing written
    r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { tool_type: 'transfer_call' });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_config');
    assert.equal(r.body.code, 'missing_field');
    // a config that does not match the new type: 400
    r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { tool_type: 'transferCall', tool_config: { url: 'https://example.com' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'tool_config.destinations');
    // a rename that breaks the implicit function name: 400
    r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { name: 'Lookup order' });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'name');
    assert.deepEqual((await api<Obj>(t, 'GET', `/tool-templates/${tpl.id}`)).body.tool_template.tool_config, { parameters: { type: 'object' } });

    r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { tool_type: 'transferCall', tool_config: { destinations: [DEST] }, description: null });
    assert.equal(r.status, 200);
    assert.equal(r.body.tool_template.tool_type, 'transfer_call');
    assert.equal(r.body.tool_template.description, null);
    assert.deepEqual(r.body.tool_template.tool_config, { destinations: [DEST] });
    // now the name is free-form (no function name involved)
    r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { name: 'Transfer to sales' });
    assert.equal(r.status, 200);
    assert.equal(r.body.tool_template.name, 'Transfer to sales');

    r = await api<Obj>(t, 'PATCH', `/tool-templates/${tpl.id}`, { name: '' });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'name');
  });

  test('attaching {tool_template_id} to an assistant copies it; deleting the template changes nothing', async () => {
    const fn = (await api<Obj>(t, 'POST', '/tool-templates', {
      name: 'get_weather', description: 'Current weather', tool_type: 'function',
      tool_config: { parameters: { type: 'object', properties: { city: { type: 'string' } } }, url: 'https://example.com/weather' },
    })).body.tool_template;
    const xfer = (await api<Obj>(t, 'POST', '/tool-templates', { name: 'Transfer', tool_type: 'transfer_call', tool_config: { destinations: [DEST] } })).body.tool_template;
    const bye = (await api<Obj>(t, 'POST', '/tool-templates', { name: 'Hang up', tool_type: 'endCall', tool_config: {} })).body.tool_template;

    const r = await api<Obj>(t, 'POST', '/assistants', {
      name: 'Weather line',
      llm_config: { provider: 'openai', model: 'gpt-4o-mini', tools: [{ tool_template_id: fn.id }, { tool_template_id: xfer.id }, { tool_template_id: bye.id }] },
    });
    assert.equal(r.status, 201);
    const expected = [
      { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, url: 'https://example.com/weather' },
      { type: 'transfer_call', destinations: [DEST] },
      { type: 'end_call' },
    ];
    assert.deepEqual(r.body.assistant.llm_config.tools, expected);

    for (const id of [fn.id, xfer.id, bye.id]) {
      const d = await api<Obj>(t, 'DELETE', `/tool-templates/${id}`);
      assert.equal(d.status, 200);
      assert.deepEqual(d.body, { success: true });
    }
    assert.equal((await api<Obj>(t, 'GET', `/tool-templates/${fn.id}`)).status, 404);
    const a = await api<Obj>(t, 'GET', `/assistants/${r.body.assistant.id}`);
    assert.deepEqual(a.body.assistant.llm_config.tools, expected);

    // a template id that no longer exists (or belongs to nobody here) is a 400 naming the entry
    const bad = await api<Obj>(t, 'POST', '/assistants', { name: 'x', llm_config: { provider: 'openai', model: 'gpt-4o-mini', tools: [{ tool_template_id: fn.id }] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'llm_config.tools[0].tool_template_id');
  });

  test('another organization: 404 on get/patch/delete, not listed, not attachable', async () => {
    const mine = (await api<Obj>(t, 'POST', '/tool-templates', { name: 'private_tool', tool_type: 'function', tool_config: {} })).body.tool_template;
    assert.equal((await api<Obj>(other, 'GET', `/tool-templates/${mine.id}`)).status, 404);
    const p = await api<Obj>(other, 'PATCH', `/tool-templates/${mine.id}`, { description: 'hijack' });
    assert.equal(p.status, 404);
    assert.equal(p.body.code, 'not_found');
    assert.equal((await api<Obj>(other, 'DELETE', `/tool-templates/${mine.id}`)).status, 404);
    assert.deepEqual((await api<Obj>(other, 'GET', '/tool-templates')).body, { tool_templates: [] });
    const a = await api<Obj>(other, 'POST', '/assistants', { name: 'x', llm_config: { provider: 'openai', model: 'gpt-4o-mini', tools: [{ tool_template_id: mine.id }] } });
    assert.equal(a.status, 400);
    assert.equal((await api<Obj>(t, 'GET', `/tool-templates/${mine.id}`)).body.tool_template.description, null);
    assert.equal((await api<Obj>(t, 'GET', '/tool-templates/not-a-uuid')).status, 404);
    assert.equal((await api<Obj>(t, 'DELETE', '/tool-templates/00000000-0000-4000-8000-000000000000')).status, 404);
  });

  test('auth required; documented in the OpenAPI document', async () => {
    assert.equal((await api<Obj>(t, 'GET', '/tool-templates', undefined, { key: null })).status, 401);
    const doc = await api<Obj>(t, 'GET', '/openapi.json');
    assert.equal(doc.status, 200);
    for (const m of ['get', 'post']) assert.ok(doc.body.paths['/api/v1/tool-templates'][m].summary);
    for (const m of ['get', 'patch', 'delete']) assert.ok(doc.body.paths['/api/v1/tool-templates/{id}'][m].summary);
  });

  test('persists across a restart', async () => {
    const tpl = (await api<Obj>(t, 'POST', '/tool-templates', { name: 'persisted', tool_type: 'end_call', tool_config: {} })).body.tool_template;
    t = await t.restart();
    assert.deepEqual((await api<Obj>(t, 'GET', `/tool-templates/${tpl.id}`)).body.tool_template, tpl);
  });
});
