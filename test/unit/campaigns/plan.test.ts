import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, outcomeOf, renderTemplate, verdictOf } from '../../../engine/campaigns/index.js';
import type { AssistantRecord } from '../../../engine/store/repos/assistants.js';

describe('per-lead plan (spec §8.4: template, metadata)', () => {
  test('renderTemplate: {{key}}, spaces, unknown keys empty, {{phone_number}}', () => {
    const vars = { name: 'John', company: 'Acme Corp' };
    assert.equal(renderTemplate('Call {{name}} of {{ company }} at {{phone_number}}; {{missing}}!', vars, '+31612345678'),
      'Call John of Acme Corp at +31612345678; !');
    assert.equal(renderTemplate('{{phone_number}}', { phone_number: 'home' }, '+31612345678'), 'home');
    assert.equal(renderTemplate('no placeholders {single}', vars, '+1'), 'no placeholders {single}');
    assert.equal(renderTemplate('{{name}}{{name}}', { name: '$& $1' }, '+1'), '$& $1$& $1', 'replacement patterns are literal');
  });

  const assistant = {
    id: 'a1', name: 'Seller', is_active: true, webhook_secret: null, created_at: 't', updated_at: 't', first_message: 'Hi',
    llm_config: { provider: 'openai', model: 'm', messages: [{ role: 'system', content: 'Base prompt' }] },
    metadata: { team: 'sales', lead_id: 'spoofed' },
  } as unknown as AssistantRecord;

  test('the rendered template is appended as one system message; metadata carries variables and ids', () => {
    const plan = buildPlan({
      campaign: { id: 'c1', system_message_template: 'The customer is {{name}} ({{tier}}).' },
      lead: { id: 'l1', phone_number: '+31612345678', variables: { name: 'John', campaign_id: 'x' } },
      attempt: 2, assistant, numberId: 'n1',
    });
    assert.equal(plan.destination, '+31612345678');
    assert.equal(plan.numberId, 'n1');
    assert.equal(plan.assistantId, 'a1');
    assert.equal(plan.firstMessage, null);
    assert.deepEqual((plan.assistant.llm_config as { messages: unknown[] }).messages, [
      { role: 'system', content: 'Base prompt' }, { role: 'system', content: 'The customer is John ().' },
    ]);
    assert.deepEqual(plan.metadata, { team: 'sales', name: 'John', campaign_id: 'c1', lead_id: 'l1', campaign_attempt: 2 });
    assert.equal('id' in plan.assistant || 'metadata' in plan.assistant || 'created_at' in plan.assistant, false);
    // The saved assistant is not modified.
    assert.equal((assistant.llm_config as { messages: unknown[] }).messages.length, 1);
  });

  test('no template (null or blank): the assistant prompt is unchanged', () => {
    for (const tpl of [null, '  ']) {
      const plan = buildPlan({ campaign: { id: 'c', system_message_template: tpl }, lead: { id: 'l', phone_number: '+1', variables: {} }, attempt: 1, assistant, numberId: 'n' });
      assert.deepEqual(plan.assistant.llm_config, assistant.llm_config);
    }
  });
});

describe('attempt outcomes (call record -> lead)', () => {
  const call = (status: 'ended' | 'failed', end_reason: string | null, messages: { role: 'user' | 'assistant'; content: string }[] | null = null, vm: string | null = null) =>
    ({ status, end_reason, messages, assistant_config: vm === null ? {} : { voicemail_message: vm } });

  test('each end reason maps to an outcome and a verdict', () => {
    const cases: [ReturnType<typeof call>, string, string][] = [
      [call('ended', 'user_hangup'), 'answered', 'completed'],
      [call('ended', 'assistant_hangup'), 'answered', 'completed'],
      [call('ended', 'silence_timeout'), 'answered', 'completed'],
      [call('ended', 'max_duration'), 'answered', 'completed'],
      [call('ended', 'transferred'), 'answered', 'completed'],
      [call('ended', 'something_new'), 'answered', 'completed'],
      [call('failed', 'no_answer'), 'no_answer', 'retry'],
      [call('failed', 'busy'), 'busy', 'retry'],
      [call('failed', 'failed_to_connect'), 'failed_to_connect', 'retry'],
      [call('failed', 'rejected'), 'rejected', 'failed'],
      [call('failed', 'error'), 'error', 'retry'],
      [call('failed', null), 'error', 'retry'],
      [call('ended', 'voicemail', [{ role: 'user', content: 'Leave a message after the beep' }]), 'voicemail', 'retry'],
      [call('ended', 'voicemail', [{ role: 'user', content: 'Leave a message' }, { role: 'assistant', content: 'Please call us back.' }]), 'voicemail_message_left', 'completed'],
      [call('ended', 'voicemail', null, 'Call us back'), 'voicemail_message_left', 'completed'],
      [call('ended', 'voicemail', null, null), 'voicemail', 'retry'],
    ];
    for (const [c, outcome, verdict] of cases) {
      const o = outcomeOf(c);
      assert.equal(o, outcome, JSON.stringify(c));
      assert.equal(verdictOf(o), verdict, JSON.stringify(c));
    }
    assert.equal(verdictOf('lost'), 'retry');
  });
});
