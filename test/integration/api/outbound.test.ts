import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import type { ControlCommand, OutboundPlan, Telephony } from '../../../engine/api/deps.js';

type Obj = Record<string, any>;
type Client = { url: string; key: string };

/** Test double of the telephony boundary: records what the API hands over. */
class RecordingTelephony implements Telephony {
  readonly placed: { orgId: string; plan: OutboundPlan }[] = [];
  readonly controls: { orgId: string; callId: string; command: ControlCommand }[] = [];
  #n = 0;
  async placeOutbound(orgId: string, plan: OutboundPlan): Promise<{ callId: string }> {
    this.placed.push({ orgId, plan });
    return { callId: `call-_${plan.destination}_TEST${String(++this.#n).padStart(8, '0')}` };
  }
  async control(orgId: string, callId: string, command: ControlCommand): Promise<void> {
    this.controls.push({ orgId, callId, command });
  }
}

const TEXT_ASSISTANT = {
  llm_config: { provider: 'openai', model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }] },
  stt_config: { provider: 'deepgram', model: 'nova-3', language: 'nl' },
  tts_config: { provider: 'elevenlabs', voice_id: 'abc123' },
};

let seq = 0;
const phone = (): string => `+3120${String(1_000_000 + ++seq).padStart(7, '0')}`;

describe('outbound calls API', () => {
  let t: TestEngine;
  let bare: TestEngine;
  const tel = new RecordingTelephony();

  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '10000' }, parts: { telephony: tel } });
    bare = await startTestEngine();
  });
  after(async () => {
    await t.close();
    await bare.close();
  });

  /** A fresh organization (so number selection sees only its own numbers). */
  const org = (e: TestEngine = t): Client & { orgId: string } => {
    const o = e.engine.store.organizations.create({ name: `org ${++seq}`, parent_org_id: null });
    return { url: e.url, key: e.engine.store.apiKeys.create(o.id).key, orgId: o.id };
  };
  const assistant = async (c: Client, body: Obj = {}): Promise<Obj> => {
    const r = await api<Obj>(c, 'POST', '/assistants', { name: 'Caller', first_message: 'Hello from Roma', ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.assistant;
  };
  const trunk = async (c: Client): Promise<Obj> => (await api<Obj>(c, 'POST', '/sip-trunks', { name: 'Out', address: 'sip.out.example' })).body.trunk;
  const number = async (c: Client, body: Obj = {}): Promise<Obj> => {
    const r = await api<Obj>(c, 'POST', '/numbers', { phone_number: phone(), ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.number;
  };
  /** An org with one assistant and one number assigned to it with a trunk. */
  const ready = async () => {
    const c = org();
    const a = await assistant(c);
    const tr = await trunk(c);
    const n = await number(c, { agent_id: a.id, transfer_trunk_id: tr.id });
    return { c, a, tr, n };
  };
  const call = (c: Client, body: Obj) => api<Obj>(c, 'POST', '/calls/outbound', body);
  const last = () => tel.placed[tel.placed.length - 1] as { orgId: string; plan: OutboundPlan };

  /** A 400 that places no call. */
  const rejects = async (c: Client, body: Obj, param: string, code = 'invalid_value'): Promise<Obj> => {
    const before = tel.placed.length;
    const r = await call(c, body);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.param, param, JSON.stringify(r.body));
    assert.equal(r.body.code, code, JSON.stringify(r.body));
    assert.equal(tel.placed.length, before, 'no call placed on a 400');
    return r.body;
  };

  test('reference mode: 201 {success, call_id, status: "dialing"}; the plan carries the saved assistant and its number', async () => {
    const { c, a, n } = await ready();
    const r = await call(c, { destination: '+31612345678', assistant_id: a.id });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, { success: true, call_id: `call-_+31612345678_TEST${String(tel.placed.length).padStart(8, '0')}`, status: 'dialing' });
    const { orgId, plan } = last();
    assert.equal(orgId, c.orgId);
    assert.equal(plan.destination, '+31612345678');
    assert.equal(plan.numberId, n.id);
    assert.equal(plan.assistantId, a.id);
    assert.equal(plan.firstMessage, 'Hello from Roma');
    assert.equal(plan.metadata, null);
    const { id: _i, created_at: _c, updated_at: _u, ...saved } = a;
    assert.deepEqual(plan.assistant, saved);
  });

  test('deprecated agent_id, first_message override (null silences the greeting)', async () => {
    const { c, a } = await ready();
    assert.equal((await call(c, { destination: '+31612345678', agent_id: a.id, first_message: 'Special offer' })).status, 201);
    assert.equal(last().plan.firstMessage, 'Special offer');
    assert.equal(last().plan.assistantId, a.id);
    assert.equal((await call(c, { destination: '+31612345678', assistant_id: a.id, agent_id: a.id, first_message: null })).status, 201);
    assert.equal(last().plan.firstMessage, null);
  });

  test('transient mode: full config, not saved; metadata handed over; text LLMs need stt_config and tts_config', async () => {
    const { c, n } = await ready();
    const r = await call(c, { destination: '+31612345678', assistant: { ...TEXT_ASSISTANT, first_message: 'Hi!', metadata: { lead: 42 } } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const { plan } = last();
    assert.equal(plan.assistantId, null);
    assert.equal(plan.numberId, n.id, 'falls back to any active number with a trunk');
    assert.deepEqual(plan.metadata, { lead: 42 });
    assert.equal(plan.assistant.metadata, undefined);
    assert.equal(plan.firstMessage, 'Hi!');
    assert.deepEqual(plan.assistant.stt_config, TEXT_ASSISTANT.stt_config);
    assert.deepEqual((plan.assistant.llm_config as Obj).messages, TEXT_ASSISTANT.llm_config.messages);
    assert.equal((plan.assistant.tts_config as Obj).model, 'eleven_flash_v2_5', 'normalised like a saved assistant');
    assert.equal((await api<Obj>(c, 'GET', '/assistants')).body.assistants.length, 1, 'transient assistants are not saved');

    const b = await rejects(c, { destination: '+31612345678', assistant: { llm_config: TEXT_ASSISTANT.llm_config } }, 'assistant.stt_config', 'missing_field');
    assert.deepEqual(b.details, ['assistant.stt_config is required', 'assistant.tts_config is required']);
    await rejects(c, { destination: '+31612345678', agent: { llm_config: TEXT_ASSISTANT.llm_config, stt_config: TEXT_ASSISTANT.stt_config } }, 'agent.tts_config', 'missing_field');
    await rejects(c, { destination: '+31612345678', assistant: { stt_config: TEXT_ASSISTANT.stt_config } }, 'assistant.llm_config', 'missing_field');
    await rejects(c, { destination: '+31612345678', assistant: { ...TEXT_ASSISTANT, llm_config: { provider: 'openai', model: 'x', temperature: 3 } } }, 'assistant.llm_config.temperature');
    await rejects(c, { destination: '+31612345678', assistant: { ...TEXT_ASSISTANT, metadata: 'x' } }, 'assistant.metadata');
  });

  test('transient realtime: stt/tts must be omitted; accepted without them', async () => {
    const { c } = await ready();
    const rt = { llm_config: { provider: 'xai_realtime', model: 'grok-realtime-v1' } };
    await rejects(c, { destination: '+31612345678', assistant: { ...rt, stt_config: TEXT_ASSISTANT.stt_config } }, 'assistant.stt_config');
    await rejects(c, { destination: '+31612345678', agent: { ...rt, tts_config: TEXT_ASSISTANT.tts_config } }, 'agent.tts_config');
    assert.equal((await call(c, { destination: '+31612345678', agent: rt })).status, 201);
    const { plan } = last();
    assert.equal(plan.assistant.stt_config, null);
    assert.equal(plan.assistant.tts_config, null);
    assert.equal((plan.assistant.llm_config as Obj).voice, 'ara');
  });

  test('hybrid mode: shallow merge (each override key replaces the whole block)', async () => {
    const c = org();
    const a = await assistant(c, {
      business_name: 'Roma', llm_config: { provider: 'openai', model: 'gpt-4o', temperature: 0.2, messages: [{ role: 'system', content: 'Saved prompt' }] },
      stt_config: { provider: 'deepgram', model: 'nova-3', language: 'en' },
    });
    const tr = await trunk(c);
    await number(c, { agent_id: a.id, transfer_trunk_id: tr.id });
    const r = await call(c, {
      destination: '+31612345678', assistant_id: a.id,
      assistant_override: { llm_config: { provider: 'openai', model: 'gpt-4o-mini' }, first_message: 'Override hi', metadata: { k: 'v' } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const { plan } = last();
    assert.equal(plan.assistantId, a.id);
    assert.deepEqual(plan.assistant.llm_config, { provider: 'openai', model: 'gpt-4o-mini', temperature: 0.7, messages: [], tools: [] }, 'the saved block is replaced, not merged');
    assert.deepEqual(plan.assistant.stt_config, { provider: 'deepgram', model: 'nova-3', language: 'en' }, 'blocks not overridden are kept');
    assert.equal(plan.assistant.business_name, 'Roma');
    assert.equal(plan.firstMessage, 'Override hi');
    assert.deepEqual(plan.metadata, { k: 'v' });
    // the saved assistant is untouched
    assert.equal((await api<Obj>(c, 'GET', `/assistants/${a.id}`)).body.assistant.llm_config.model, 'gpt-4o');

    // deprecated agent_config; switching to a realtime model drops the saved STT/TTS
    assert.equal((await call(c, { destination: '+31612345678', agent_id: a.id, agent_config: { llm_config: { provider: 'xai_realtime', model: 'grok-realtime-v1', voice: 'rex' } } })).status, 201);
    assert.equal(last().plan.assistant.stt_config, null);
    assert.equal((last().plan.assistant.llm_config as Obj).voice, 'rex');

    await rejects(c, { destination: '+31612345678', assistant_id: a.id, assistant_override: { llm_config: { provider: 'openai', model: 'x', voice: 'ara' } } }, 'assistant_override.llm_config.voice');
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, agent_config: { llm_config: { provider: 'nope', model: 'x' } } }, 'agent_config.llm_config.provider');
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, assistant_override: { stt_config: null } }, 'assistant_override.stt_config', 'missing_field');
  });

  test('mode rules: exactly one of assistant_id / assistant; override needs assistant_id; aliases must agree', async () => {
    const { c, a } = await ready();
    const none = await rejects(c, { destination: '+31612345678' }, 'assistant_id', 'missing_field');
    assert.match(none.message, /assistant_id or assistant is required/);
    const both = await rejects(c, { destination: 'x', agent_config: {} }, 'destination');
    assert.deepEqual(both.details, [
      'destination must match ^\\+[1-9]\\d{6,14}$', 'assistant_id or assistant is required (exactly one of them)',
      'agent_config needs assistant_id (hybrid mode); put the fields in assistant instead',
    ], 'schema and mode problems are listed together');
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, assistant: TEXT_ASSISTANT }, 'assistant');
    await rejects(c, { destination: '+31612345678', agent_id: a.id, agent: TEXT_ASSISTANT }, 'agent');
    await rejects(c, { destination: '+31612345678', assistant: TEXT_ASSISTANT, assistant_override: { first_message: 'x' } }, 'assistant_override');
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, agent_id: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f' }, 'agent_id');
    await rejects(c, { destination: '+31612345678', assistant: TEXT_ASSISTANT, agent: { ...TEXT_ASSISTANT, first_message: 'x' } }, 'agent');
  });

  test('assistant checks: unknown, foreign, malformed, inactive', async () => {
    const { c } = await ready();
    const foreign = await assistant(org());
    await rejects(c, { destination: '+31612345678', assistant_id: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f' }, 'assistant_id');
    await rejects(c, { destination: '+31612345678', assistant_id: foreign.id }, 'assistant_id');
    await rejects(c, { destination: '+31612345678', agent_id: foreign.id }, 'agent_id');
    await rejects(c, { destination: '+31612345678', assistant_id: 'abc' }, 'assistant_id');
    const inactive = await assistant(c, { is_active: false });
    const r = await rejects(c, { destination: '+31612345678', assistant_id: inactive.id }, 'assistant_id');
    assert.match(r.message, /inactive/);
  });

  test('destination must be E.164', async () => {
    const { c, a } = await ready();
    await rejects(c, { assistant_id: a.id }, 'destination', 'missing_field');
    for (const d of ['0612345678', '+0612345678', 'sip:bob@example.com', '+31 6 1234 5678', 31612345678]) {
      await rejects(c, { destination: d, assistant_id: a.id }, 'destination');
    }
  });

  test('caller number selection when number_id is omitted (spec §3.4 PROPOSED order)', async () => {
    const c = org();
    const a = await assistant(c);
    const b = await assistant(c, { name: 'Other' });
    const tr = await trunk(c);
    const orgNumber = await number(c, { transfer_trunk_id: tr.id }); // oldest, not assigned
    await number(c, { agent_id: a.id }); // assigned, but no trunk
    await number(c, { agent_id: a.id, transfer_trunk_id: tr.id, is_active: false }); // assigned, inactive
    const assigned = await number(c, { agent_id: a.id, transfer_trunk_id: tr.id });
    await number(c, { agent_id: a.id, transfer_trunk_id: tr.id }); // newer duplicate: the first one wins
    assert.equal((await call(c, { destination: '+31612345678', assistant_id: a.id })).status, 201);
    assert.equal(last().plan.numberId, assigned.id, '(a) active number of the assistant with a trunk');
    assert.equal((await call(c, { destination: '+31612345678', assistant_id: b.id })).status, 201);
    assert.equal(last().plan.numberId, orgNumber.id, '(b) any active number of the org with a trunk');
    assert.equal((await call(c, { destination: '+31612345678', assistant: TEXT_ASSISTANT })).status, 201);
    assert.equal(last().plan.numberId, orgNumber.id, 'transient calls use rule (b)');
  });

  test('no number: no_outbound_number; numbers without a usable trunk: no_outbound_trunk', async () => {
    const c = org();
    const a = await assistant(c);
    const none = await rejects(c, { destination: '+31612345678', assistant_id: a.id }, 'number_id', 'no_outbound_number');
    assert.equal(none.type, 'invalid_request_error');
    await number(c, { agent_id: a.id, transfer_trunk_id: (await trunk(c)).id, is_active: false }); // inactive numbers do not count
    await rejects(c, { destination: '+31612345678', assistant_id: a.id }, 'number_id', 'no_outbound_number');
    await number(c, { agent_id: a.id });
    await rejects(c, { destination: '+31612345678', assistant_id: a.id }, 'number_id', 'no_outbound_trunk');
    // a trunk that is inactive is not usable either
    const off = (await api<Obj>(c, 'POST', '/sip-trunks', { name: 'Off', address: 'off.example', is_active: false })).body.trunk;
    await number(c, { agent_id: a.id, transfer_trunk_id: off.id });
    await rejects(c, { destination: '+31612345678', assistant_id: a.id }, 'number_id', 'no_outbound_trunk');
  });

  test('explicit number_id: used as given; unknown, foreign, inactive, trunkless are 400', async () => {
    const { c, a, tr } = await ready();
    const chosen = await number(c, { transfer_trunk_id: tr.id });
    assert.equal((await call(c, { destination: '+31612345678', assistant_id: a.id, number_id: chosen.id })).status, 201);
    assert.equal(last().plan.numberId, chosen.id);
    const foreign = (await ready()).n;
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, number_id: foreign.id }, 'number_id');
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, number_id: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f' }, 'number_id');
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, number_id: 'nope' }, 'number_id');
    const inactive = await number(c, { transfer_trunk_id: tr.id, is_active: false });
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, number_id: inactive.id }, 'number_id');
    const trunkless = await number(c, {});
    await rejects(c, { destination: '+31612345678', assistant_id: a.id, number_id: trunkless.id }, 'number_id', 'no_outbound_trunk');
  });

  test('without telephony: 503 telephony_unavailable after validation passes; 4xx first', async () => {
    const c = org(bare);
    const a = (await api<Obj>(c, 'POST', '/assistants', { name: 'A' })).body.assistant;
    const tr = (await api<Obj>(c, 'POST', '/sip-trunks', { name: 'T', address: 't.example' })).body.trunk;
    const bad = await api<Obj>(c, 'POST', '/calls/outbound', { destination: 'x', assistant_id: a.id });
    assert.equal(bad.status, 400);
    const noNumber = await api<Obj>(c, 'POST', '/calls/outbound', { destination: '+31612345678', assistant_id: a.id });
    assert.equal(noNumber.body.code, 'no_outbound_number');
    await api<Obj>(c, 'POST', '/numbers', { phone_number: phone(), agent_id: a.id, transfer_trunk_id: tr.id });
    const r = await api<Obj>(c, 'POST', '/calls/outbound', { destination: '+31612345678', assistant_id: a.id });
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'telephony_unavailable');
    assert.equal(r.body.error, 'Service Unavailable');
    assert.match(r.body.message, /telephony/i);
    assert.deepEqual((await api<Obj>(c, 'GET', '/calls')).body.calls, [], 'no call record is invented');
  });
});
