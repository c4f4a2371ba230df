import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAssistantResponse, parseToolResponse, resultText } from '../../../engine/webhooks/index.js';

describe('parseAssistantResponse (spec §6.3)', () => {
  test('the five forms', () => {
    assert.deepEqual(parseAssistantResponse('{}'), { type: 'use-saved', maxDurationSeconds: null });
    assert.deepEqual(parseAssistantResponse(''), { type: 'use-saved', maxDurationSeconds: null });
    assert.deepEqual(parseAssistantResponse('{"assistant":{"name":"t"}}'), { type: 'transient', assistant: { name: 't' }, maxDurationSeconds: null });
    assert.deepEqual(parseAssistantResponse('{"assistant_id":"id-1"}'), { type: 'hybrid', assistantId: 'id-1', override: {}, maxDurationSeconds: null });
    assert.deepEqual(parseAssistantResponse('{"max_duration_seconds":300.7}'), { type: 'use-saved', maxDurationSeconds: 300 });
    assert.deepEqual(parseAssistantResponse('{"error":"closed","max_duration_seconds":10}'), { type: 'reject', error: 'closed', maxDurationSeconds: 10 });
  });
  test('precedence: error, then assistant_id, then assistant', () => {
    assert.equal(parseAssistantResponse('{"error":"no","assistant":{}}').type, 'reject');
    assert.equal(parseAssistantResponse('{"assistant_id":"x","assistant":{}}').type, 'hybrid');
  });
  test('unusable bodies fail', () => {
    for (const body of ['nope', '[]', '"x"', '{"assistant":"x"}', '{"assistant_id":5}', '{"assistant_id":"x","assistant_override":[]}',
      '{"max_duration_seconds":-1}', '{"max_duration_seconds":"300"}', '{"error":42}']) {
      const r = parseAssistantResponse(body);
      assert.equal(r.type, 'failed', body);
      assert.equal(r.type === 'failed' && r.reason, 'bad_response', body);
    }
  });
});

describe('parseToolResponse (spec §6.4)', () => {
  const one = [{ id: 't1', name: 'lookup' }];
  const ok = (content: string) => [{ type: 'ok', toolCallId: 't1', name: 'lookup', async: false, content }];
  test('resolution order', () => {
    assert.deepEqual(parseToolResponse('{"results":[{"tool_call_id":"t1","result":{"a":1}}]}', one), ok('{"a":1}'));
    assert.deepEqual(parseToolResponse('{"result":"fine"}', one), ok('fine'));
    assert.deepEqual(parseToolResponse('{"error":"Contact not found"}', one),
      [{ type: 'error', toolCallId: 't1', name: 'lookup', async: false, code: 'tool_error', content: 'Tool lookup failed: Contact not found' }]);
    assert.deepEqual(parseToolResponse('{"error":{"code":1}}', one), ok('{"error":{"code":1}}'), 'a non-string error is a direct result');
    assert.deepEqual(parseToolResponse('{"result":1,"x":2}', one), ok('{"result":1,"x":2}'));
    assert.deepEqual(parseToolResponse('42', one), ok('42'));
    assert.deepEqual(parseToolResponse('null', one), ok('null'));
    assert.deepEqual(parseToolResponse('not json', one), ok('not json'));
  });
  test('results entries: missing result is null; unmatched ids are errors', () => {
    assert.deepEqual(parseToolResponse('{"results":[{"tool_call_id":"t1"}]}', one), ok('null'));
    const r = parseToolResponse('{"results":[]}', one);
    assert.equal(r[0]?.type === 'error' && r[0].code, 'missing_result');
  });
  test('resultText', () => {
    assert.equal(resultText('x'), 'x');
    assert.equal(resultText(undefined), 'null');
    assert.equal(resultText({ a: [1] }), '{"a":[1]}');
  });
});
