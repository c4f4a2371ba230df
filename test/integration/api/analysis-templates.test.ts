import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import { DEFAULT_ANALYSIS_SYSTEM_PROMPT } from '../../../engine/api/schemas/templates.js';

type Obj = Record<string, any>;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const SCHEMA = { type: 'object', properties: { appointment_booked: { type: 'boolean' }, date: { type: 'string' } } };

describe('analysis templates API (spec §3.11, §4.21)', () => {
  let t: TestEngine;
  let other: { url: string; key: string };
  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '100000' } });
    const org = t.engine.store.organizations.create({ name: 'Other org', parent_org_id: null });
    other = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key };
  });
  after(async () => { await t.close(); });

  test('create: both wrapper keys, exact shape, defaults for the prompts', async () => {
    const r = await api<Obj>(t, 'POST', '/analysis-templates', { name: 'Booking', schema: SCHEMA });
    assert.equal(r.status, 201);
    assert.deepEqual(Object.keys(r.body).sort(), ['analysisTemplate', 'analysis_template']);
    const a = r.body.analysis_template;
    assert.deepEqual(r.body.analysisTemplate, a);
    assert.deepEqual(Object.keys(a), ['id', 'org_id', 'name', 'description', 'system_prompt', 'user_prompt', 'schema', 'created_at', 'updated_at']);
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.equal(a.org_id, t.engine.store.apiKeys.findByKey(t.key)?.org_id);
    assert.equal(a.name, 'Booking');
    assert.equal(a.description, null);
    assert.equal(a.system_prompt, DEFAULT_ANALYSIS_SYSTEM_PROMPT);
    assert.equal(a.user_prompt, 'Analyze this call.\n\nTranscript: {transcript}');
    assert.deepEqual(a.schema, SCHEMA);
    assert.match(a.created_at, TS);
    assert.match(a.updated_at, TS);

    const got = await api<Obj>(t, 'GET', `/analysis-templates/${a.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { analysis_template: a, analysisTemplate: a });
  });

  test('list: the same array under analysis_templates and analysisTemplates, newest first', async () => {
    const x = (await api<Obj>(t, 'POST', '/analysis-templates', {
      name: 'Lead quality', description: 'Scores the lead', schema: SCHEMA,
      system_prompt: 'You score sales calls.', user_prompt: 'Caller {caller_number}, {duration}s.\n{{transcript}}\nSummary: {summary}',
    })).body.analysis_template;
    assert.equal(x.description, 'Scores the lead');
    assert.equal(x.system_prompt, 'You score sales calls.');
    const r = await api<Obj>(t, 'GET', '/analysis-templates');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['analysisTemplates', 'analysis_templates']);
    assert.deepEqual(r.body.analysisTemplates, r.body.analysis_templates);
    assert.deepEqual(r.body.analysis_templates[0], x);
  });

  test('legacy messages and min_messages_threshold: accepted, stored, returned; prompts taken from them', async () => {
    const messages = [{ role: 'system', content: 'Extract the booking.' }, { role: 'user', content: 'Transcript: {{transcript}}' }];
    const r = await api<Obj>(t, 'POST', '/analysis-templates', { name: 'Legacy', schema: SCHEMA, messages, min_messages_threshold: 5 });
    assert.equal(r.status, 201);
    const a = r.body.analysis_template;
    assert.deepEqual(a.messages, messages);
    assert.equal(a.min_messages_threshold, 5);
    assert.equal(a.system_prompt, 'Extract the booking.');
    assert.equal(a.user_prompt, 'Transcript: {{transcript}}');
    assert.deepEqual(Object.keys(a), ['id', 'org_id', 'name', 'description', 'system_prompt', 'user_prompt', 'schema', 'messages', 'min_messages_threshold', 'created_at', 'updated_at']);

    const p = await api<Obj>(t, 'PATCH', `/analysis-templates/${a.id}`, { min_messages_threshold: null, messages: null });
    assert.equal(p.status, 200);
    assert.equal('messages' in p.body.analysis_template, false);
    assert.equal('min_messages_threshold' in p.body.analysis_template, false);
    assert.equal(p.body.analysis_template.system_prompt, 'Extract the booking.');
  });

  test('validation: missing name/schema, wrong types, ranges; nothing written', async () => {
    const before = (await api<Obj>(t, 'GET', '/analysis-templates')).body.analysis_templates.length;
    let r = await api<Obj>(t, 'POST', '/analysis-templates', {});
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'missing_field');
    assert.deepEqual(r.body.details, ['name is required', 'schema is required']);
    r = await api<Obj>(t, 'POST', '/analysis-templates', { name: 'x', schema: 'not an object' });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'schema');
    assert.equal(r.body.code, 'invalid_value');
    r = await api<Obj>(t, 'POST', '/analysis-templates', { name: 'x', schema: {}, system_prompt: 4, min_messages_threshold: -1, messages: [{ role: 'assistant', content: 'x' }] });
    assert.equal(r.status, 400);
    assert.ok(r.body.details.some((d: string) => d.startsWith('system_prompt must be a string')));
    assert.ok(r.body.details.some((d: string) => d.startsWith('min_messages_threshold must be')));
    assert.ok(r.body.details.some((d: string) => d.startsWith('messages[0].role')));
    r = await api<Obj>(t, 'POST', '/analysis-templates', { name: '', schema: {} });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'name');
    assert.equal((await api<Obj>(t, 'GET', '/analysis-templates')).body.analysis_templates.length, before);
  });

  test('PATCH: only given fields change, description nullable, bad values rejected', async () => {
    const a = (await api<Obj>(t, 'POST', '/analysis-templates', { name: 'Patch me', description: 'old', schema: SCHEMA })).body.analysis_template;
    let r = await api<Obj>(t, 'PATCH', `/analysis-templates/${a.id}`, { description: null, user_prompt: 'Summary: {summary}' });
    assert.equal(r.status, 200);
    const b = r.body.analysis_template;
    assert.deepEqual(r.body.analysisTemplate, b);
    assert.equal(b.description, null);
    assert.equal(b.user_prompt, 'Summary: {summary}');
    assert.equal(b.system_prompt, a.system_prompt);
    assert.deepEqual(b.schema, SCHEMA);
    assert.equal(b.name, 'Patch me');
    assert.equal(b.created_at, a.created_at);
    r = await api<Obj>(t, 'PATCH', `/analysis-templates/${a.id}`, { schema: { type: 'object' }, name: 'Renamed' });
    assert.deepEqual(r.body.analysis_template.schema, { type: 'object' });
    assert.equal(r.body.analysis_template.name, 'Renamed');
    r = await api<Obj>(t, 'PATCH', `/analysis-templates/${a.id}`, { schema: null });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'schema');
    assert.equal((await api<Obj>(t, 'GET', `/analysis-templates/${a.id}`)).body.analysis_template.name, 'Renamed');
  });

  test('template_id in an assistant analysis plan is expanded (copied) and survives deleting the template', async () => {
    const tpl = (await api<Obj>(t, 'POST', '/analysis-templates', {
      name: 'Outcome', schema: SCHEMA, system_prompt: 'You extract outcomes.', user_prompt: 'Transcript: {transcript}',
    })).body.analysis_template;
    const r = await api<Obj>(t, 'POST', '/assistants', { name: 'Analysed', analysis_plan: { structured_data_plan: { enabled: true, template_id: tpl.id } } });
    assert.equal(r.status, 201);
    const sdp = r.body.assistant.analysis_plan.structured_data_plan;
    assert.deepEqual(sdp.schema, SCHEMA);
    assert.deepEqual(sdp.messages, [{ role: 'system', content: 'You extract outcomes.' }, { role: 'user', content: 'Transcript: {transcript}' }]);

    const d = await api<Obj>(t, 'DELETE', `/analysis-templates/${tpl.id}`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body, { success: true });
    assert.equal((await api<Obj>(t, 'GET', `/analysis-templates/${tpl.id}`)).status, 404);
    const a = await api<Obj>(t, 'GET', `/assistants/${r.body.assistant.id}`);
    assert.deepEqual(a.body.assistant.analysis_plan.structured_data_plan.schema, SCHEMA);

    const bad = await api<Obj>(t, 'POST', '/assistants', { name: 'x', analysis_plan: { structured_data_plan: { enabled: true, template_id: tpl.id } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'analysis_plan.structured_data_plan.template_id');
  });

  test('another organization: 404, not listed, not usable from its assistants', async () => {
    const mine = (await api<Obj>(t, 'POST', '/analysis-templates', { name: 'Mine', schema: SCHEMA })).body.analysis_template;
    assert.equal((await api<Obj>(other, 'GET', `/analysis-templates/${mine.id}`)).status, 404);
    assert.equal((await api<Obj>(other, 'PATCH', `/analysis-templates/${mine.id}`, { name: 'x' })).status, 404);
    assert.equal((await api<Obj>(other, 'DELETE', `/analysis-templates/${mine.id}`)).status, 404);
    assert.deepEqual((await api<Obj>(other, 'GET', '/analysis-templates')).body, { analysis_templates: [], analysisTemplates: [] });
    const a = await api<Obj>(other, 'POST', '/assistants', { name: 'x', analysis_plan: { structured_data_plan: { enabled: true, template_id: mine.id } } });
    assert.equal(a.status, 400);
    assert.equal((await api<Obj>(t, 'GET', `/analysis-templates/${mine.id}`)).body.analysis_template.name, 'Mine');
    assert.equal((await api<Obj>(t, 'GET', '/analysis-templates/nope')).status, 404);
  });

  test('persists across a restart; documented in the OpenAPI document', async () => {
    const a = (await api<Obj>(t, 'POST', '/analysis-templates', { name: 'Kept', schema: SCHEMA, min_messages_threshold: 3 })).body.analysis_template;
    t = await t.restart();
    assert.deepEqual((await api<Obj>(t, 'GET', `/analysis-templates/${a.id}`)).body.analysis_template, a);
    const doc = await api<Obj>(t, 'GET', '/openapi.json');
    assert.ok(doc.body.paths['/api/v1/analysis-templates'].post.summary);
    assert.ok(doc.body.paths['/api/v1/analysis-templates/{id}'].patch.summary);
  });
});
